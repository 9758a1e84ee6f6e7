"""The transaction of a service function that a consumer runs for a message."""

from __future__ import annotations

from django.db import transaction


def message_transaction(using: str):
    """``transaction.atomic(using=using)`` with no savepoint of its own when it runs inside another transaction.

    Consumers run such a function inside the transaction they hold for the
    message (its own, or in a batch a savepoint for the message alone), which
    already rolls everything of the message back on an error and commits it
    with the inbox row. A savepoint of the function's own would isolate nothing
    more and cost two statements, two round trips on PostgreSQL, for each
    message. Called with no transaction open (a test, a shell, a management
    command), it is the transaction. A caller that catches the function's error
    inside a transaction of its own must give that transaction up: Django
    refuses any further query in it, as it does for every ``savepoint=False`` block.
    """
    return transaction.atomic(using=using, savepoint=False)
