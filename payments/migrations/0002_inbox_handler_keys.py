"""The inbox names each handler by its key, no longer by its function's import path.

The renames are written out here, not read from the handlers module: that
module changes, a migration must keep doing what it did.
"""

from django.db import migrations

from shopsite.bus.inbox_keys import rename_inbox_handlers

INBOX_KEYS = {
    "payments.handlers.payment_requested": "payments.payment-requested",
    "payments.handlers.refund_requested": "payments.refund-requested",
}


class Migration(migrations.Migration):

    dependencies = [
        ("payments", "0001_initial"),
    ]

    operations = [
        rename_inbox_handlers("payments", INBOX_KEYS),
    ]
