from django.contrib import admin

from shopsite.bus.admin import ReadOnlyAdmin, register_bus_models

from .models import InboxMessage, Notification, OutboxMessage, Recipient


@admin.register(Recipient)
class RecipientAdmin(ReadOnlyAdmin):
    """A replica of accounts: change the user there and it follows."""

    list_display = ("user_id", "email", "name", "is_active", "updated_at")
    search_fields = ("email", "name", "user_id")
    list_filter = ("is_active", "updated_at")
    readonly_fields = ("user_id", "email", "name", "is_active", "version", "updated_at")


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ("subject", "to_email", "kind", "status", "order_id", "created_at", "sent_at")
    list_filter = ("kind", "status", "created_at")
    search_fields = ("to_email", "subject", "order_id", "user_id")
    date_hierarchy = "created_at"
    readonly_fields = [field.name for field in Notification._meta.fields]


register_bus_models(admin.site, OutboxMessage, InboxMessage)
