"""The inbox names each handler by its key, no longer by its function's import path.

The renames are written out here, not read from the handlers module: that
module changes, a migration must keep doing what it did.
"""

from django.db import migrations

from shopsite.bus.inbox_keys import rename_inbox_handlers

INBOX_KEYS = {
    "notifications.handlers.user_changed": "notifications.user-changed",
    "notifications.handlers.registration_repeated": "notifications.registration-repeated",
    "notifications.handlers.order_confirmed": "notifications.order-confirmed",
    "notifications.handlers.order_cancelled": "notifications.order-cancelled",
    "notifications.handlers.order_shipped": "notifications.order-shipped",
    "notifications.handlers.order_delivered": "notifications.order-delivered",
}


class Migration(migrations.Migration):

    dependencies = [
        ("notifications", "0002_notification_kind_account_exists"),
    ]

    operations = [
        rename_inbox_handlers("notifications", INBOX_KEYS),
    ]
