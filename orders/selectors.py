from __future__ import annotations

import uuid
from datetime import timedelta

from django.db.models import QuerySet
from django.utils import timezone

from shopsite.errors import NotFound

from .models import Order, OrderEvent


def order_list(*, user_id: int, status: str | None = None) -> QuerySet[Order]:
    orders = Order.objects.filter(user_id=user_id)
    if status:
        orders = orders.filter(status=status)
    return orders


def order_history(*, user_id: int) -> QuerySet[Order]:
    """The user's orders, newest first, with their lines for a summary of each."""
    return order_list(user_id=user_id).prefetch_related("lines")


def order_get(*, user_id: int, order_id: uuid.UUID) -> Order:
    order = Order.objects.filter(user_id=user_id, pk=order_id).prefetch_related("lines", "events").first()
    if order is None:
        raise NotFound("Order not found")
    return order


#: Changes the customer is told about by email.
_ANNOUNCED = (OrderEvent.Kind.CONFIRMED, OrderEvent.Kind.CANCELLED, OrderEvent.Kind.SHIPPED, OrderEvent.Kind.DELIVERED)
_TOLD = (OrderEvent.Kind.CUSTOMER_NOTIFIED, OrderEvent.Kind.NOTIFICATION_FAILED)
#: How long after a change the email about it is still expected.
NOTICE_GRACE = timedelta(seconds=60)


def order_in_flight(*, order: Order) -> bool:
    """Whether messages about the order are still on their way, so a page showing it should keep watching.

    That is while the saga runs, while a refund is outstanding, and for a short
    while after a change the customer is about to be emailed about.
    """
    if order.status in (Order.Status.PENDING, Order.Status.AWAITING_PAYMENT):
        return True
    events = list(order.events.all())
    kinds = [event.kind for event in events]
    if OrderEvent.Kind.REFUND_REQUESTED in kinds and OrderEvent.Kind.REFUNDED not in kinds:
        return True
    last_change = max((i for i, kind in enumerate(kinds) if kind in _ANNOUNCED), default=None)
    if last_change is None or any(kind in _TOLD for kind in kinds[last_change:]):
        return False
    return timezone.now() - events[last_change].occurred_at < NOTICE_GRACE


def order_list_all(*, status: str | None = None, user_id: int | None = None) -> QuerySet[Order]:
    """Every customer's orders, for staff; narrowed by status and customer when given."""
    orders = Order.objects.all()
    if status:
        orders = orders.filter(status=status)
    if user_id is not None:
        orders = orders.filter(user_id=user_id)
    return orders
