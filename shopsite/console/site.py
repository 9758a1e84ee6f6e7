"""The shop's admin site: Django's, plus the bus console's pages and its index section."""

from functools import wraps

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.urls import path, reverse

from shopsite.models import REPLAY_PERMISSION, VIEW_PERMISSION

from . import views


class ShopAdminSite(admin.AdminSite):
    site_header = "Shop administration"
    site_title = "Shop admin"
    index_title = "Staff console"

    def console_view(self, view, *permissions: str):
        """``admin_view`` (signed-in staff) that also needs ``permissions``: a 403 without them."""

        @wraps(view)
        def checked(request, *args, **kwargs):
            if not request.user.has_perms(permissions):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return self.admin_view(checked)

    def get_urls(self):
        def page(view_class, *more: str):
            return self.console_view(view_class.as_view(admin_site=self), VIEW_PERMISSION, *more)

        console = [
            path("bus/", page(views.BusConsoleView), name="bus-console"),
            path("bus/trace/", page(views.MessageTraceView), name="bus-trace"),
            path("bus/<str:service>/", page(views.BusServiceDetailView), name="bus-service"),
            path("bus/<str:service>/replay/", page(views.DeadLetterReplayView, REPLAY_PERMISSION), name="bus-replay"),
        ]
        # Ahead of the site's own patterns, which end in a catch-all.
        return console + super().get_urls()

    def get_app_list(self, request, app_label=None):
        app_list = super().get_app_list(request, app_label)
        if app_label is None and request.user.has_perm(VIEW_PERMISSION):
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
