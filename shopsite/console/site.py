"""The shop's admin site: Django's, plus the bus console's pages and its index section."""

from django.contrib import admin
from django.urls import path, reverse

from . import views


class ShopAdminSite(admin.AdminSite):
    site_header = "Shop administration"
    site_title = "Shop admin"
    index_title = "Staff console"

    def get_urls(self):
        console = [
            path("bus/", self.admin_view(views.BusConsoleView.as_view(admin_site=self)), name="bus-console"),
            path("bus/trace/", self.admin_view(views.MessageTraceView.as_view(admin_site=self)), name="bus-trace"),
            path("bus/<str:service>/", self.admin_view(views.BusServiceDetailView.as_view(admin_site=self)),
                 name="bus-service"),
            path("bus/<str:service>/replay/", self.admin_view(views.DeadLetterReplayView.as_view(admin_site=self)),
                 name="bus-replay"),
        ]
        # Ahead of the site's own patterns, which end in a catch-all.
        return console + super().get_urls()

    def get_app_list(self, request, app_label=None):
        app_list = super().get_app_list(request, app_label)
        if app_label is None:
            app_list.insert(0, self._bus_console_section())
        return app_list

    def _bus_console_section(self) -> dict:
        def entry(name: str, object_name: str, url_name: str) -> dict:
            url = reverse(f"{self.name}:{url_name}", current_app=self.name)
            return {"name": name, "object_name": object_name, "admin_url": url, "add_url": None, "view_only": True,
                    "perms": {"view": True}}

        return {
            "name": "Bus console",
            "app_label": "bus",
            "app_url": reverse(f"{self.name}:bus-console", current_app=self.name),
            "has_module_perms": True,
            "models": [
                entry("Outboxes, inboxes and dead letters", "BusConsole", "bus-console"),
                entry("Message trace", "MessageTrace", "bus-trace"),
            ],
        }
