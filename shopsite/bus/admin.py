"""Read-only admin views of a service's outbox and inbox."""

from django.contrib import admin


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class OutboxAdmin(ReadOnlyAdmin):
    list_display = ["type", "id", "created_at", "sent_at", "attempts"]
    list_filter = ["type", ("sent_at", admin.EmptyFieldListFilter)]
    search_fields = ["id", "correlation_id", "type"]
    date_hierarchy = "created_at"


class InboxAdmin(ReadOnlyAdmin):
    list_display = ["type", "message_id", "handler", "processed_at"]
    list_filter = ["type", "handler"]
    search_fields = ["message_id", "correlation_id"]


def register_bus_models(site: admin.AdminSite, outbox, inbox) -> None:
    site.register(outbox, OutboxAdmin)
    site.register(inbox, InboxAdmin)
