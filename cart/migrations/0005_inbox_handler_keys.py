"""The inbox names each handler by its key, no longer by its function's import path.

The renames are written out here, not read from the handlers module: that
module changes, a migration must keep doing what it did. Rows of
``cart.handlers.cart_clear_ordered`` (gone before keys, its work replaced by
checkout lines) keep their old name: no handler will look for them.
"""

from django.db import migrations

from shopsite.bus.inbox_keys import rename_inbox_handlers

INBOX_KEYS = {
    "cart.handlers.product_replicate": "cart.product-replicate",
    "cart.handlers.stock_replicate": "cart.stock-replicate",
    "cart.handlers.note_order_placed": "cart.note-order-placed",
    "cart.handlers.restore_cancelled_order": "cart.restore-cancelled-order",
}


class Migration(migrations.Migration):

    dependencies = [
        ("cart", "0004_productreplica_images"),
    ]

    operations = [
        rename_inbox_handlers("cart", INBOX_KEYS),
    ]
