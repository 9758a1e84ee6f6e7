"""The minimal handler the bus measurements run: one state change and one outgoing message.

It is the work a real handler does at its smallest (a guarded UPDATE like the
saga's status moves, and a message recorded in the outbox), so "consumer vs
database ceiling" shows what the bus adds over the work itself.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.utils import timezone

from orders.models import Order, OutboxMessage
from shopsite import contracts
from shopsite.bus.handlers import Handler

#: The row every measured transaction changes.
ORDER_ID = uuid.UUID("00000000-0000-4000-8000-00000000b0b0")


def create_order() -> None:
    Order.objects.get_or_create(id=ORDER_ID, defaults=dict(
        checkout_id=uuid.uuid4(), user_id=1, total=Decimal("1.00"), shipping_line1="1 Bench Street",
        payment_method_id=uuid.uuid4(),
    ))


def minimal(message: contracts.StockReleased) -> None:
    Order.objects.filter(pk=ORDER_ID).update(updated_at=timezone.now())
    OutboxMessage.record(outgoing(message.order_id))


def noop(message: contracts.StockReleased) -> None:
    """Nothing at all: with the inbox row the consumer writes anyway, the same work as Celery's no-op task."""


#: What the minimal consumer subscribes to; the message it records goes to a sink queue. The outgoing type is
#: one the orders service publishes: its outbox refuses any other (``OutboxMessage.PUBLISHES``).
IN_TYPE, OUT_TYPE = contracts.StockReleased, contracts.RequestRefund


def outgoing(order_id: uuid.UUID) -> contracts.RequestRefund:
    """The message the minimal handler records: as small as the stock.reserved with no lines it used to be."""
    return OUT_TYPE(order_id=order_id, user_id=1, reason="bench")


#: The handlers as the consumer runs them, by the names the workloads take; keyed in the orders inbox they write.
BY_NAME = {
    "minimal": Handler("orders.bench-minimal", minimal),
    "noop": Handler("orders.bench-noop", noop),
}
