"""The inbox names each handler by its key, no longer by its function's import path.

The renames are written out here, not read from the handlers module: that
module changes, a migration must keep doing what it did.
"""

from django.db import migrations

from shopsite.bus.inbox_keys import rename_inbox_handlers

INBOX_KEYS = {
    "catalog.handlers.user_role_replicate": "catalog.user-role-replicate",
    "catalog.handlers.stock_reserve": "catalog.stock-reserve",
    "catalog.handlers.stock_release": "catalog.stock-release",
    "catalog.handlers.stock_commit": "catalog.stock-commit",
}


class Migration(migrations.Migration):

    dependencies = [
        ("catalog", "0006_product_images"),
    ]

    operations = [
        rename_inbox_handlers("catalog", INBOX_KEYS),
    ]
