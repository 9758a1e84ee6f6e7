"""The inbox names each handler by its key, no longer by its function's import path.

The renames are written out here, not read from the handlers module: that
module changes, a migration must keep doing what it did.
"""

from django.db import migrations

from shopsite.bus.inbox_keys import rename_inbox_handlers

INBOX_KEYS = {
    "orders.handlers.place_order": "orders.place-order",
    "orders.handlers.request_payment": "orders.request-payment",
    "orders.handlers.cancel_for_stock": "orders.cancel-for-stock",
    "orders.handlers.note_stock_released": "orders.note-stock-released",
    "orders.handlers.confirm_order": "orders.confirm-order",
    "orders.handlers.cancel_for_payment": "orders.cancel-for-payment",
    "orders.handlers.note_refund": "orders.note-refund",
    "orders.handlers.note_notification": "orders.note-notification",
    "orders.handlers.note_failed_notification": "orders.note-failed-notification",
}


class Migration(migrations.Migration):

    dependencies = [
        ("orders", "0004_structured_shipping_address"),
    ]

    operations = [
        rename_inbox_handlers("orders", INBOX_KEYS),
    ]
