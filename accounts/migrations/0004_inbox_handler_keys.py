"""The inbox names each handler by its key, no longer by its function's import path.

The renames are written out here, not read from the handlers module: that
module changes, a migration must keep doing what it did.
"""

from django.db import migrations

from shopsite.bus.inbox_keys import rename_inbox_handlers

INBOX_KEYS = {
    "accounts.handlers.order_confirmed": "accounts.order-confirmed",
    "accounts.handlers.order_cancelled": "accounts.order-cancelled",
    "accounts.handlers.order_shipped": "accounts.order-shipped",
    "accounts.handlers.order_delivered": "accounts.order-delivered",
    "accounts.handlers.notification_sent": "accounts.notification-sent",
}


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0003_address_book"),
    ]

    operations = [
        rename_inbox_handlers("accounts", INBOX_KEYS),
    ]
