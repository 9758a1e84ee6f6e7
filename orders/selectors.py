from __future__ import annotations

import uuid

from django.db.models import QuerySet

from shopsite.errors import NotFound

from .models import Order


def order_list(*, user_id: int, status: str | None = None) -> QuerySet[Order]:
    orders = Order.objects.filter(user_id=user_id)
    if status:
        orders = orders.filter(status=status)
    return orders


def order_get(*, user_id: int, order_id: uuid.UUID) -> Order:
    order = Order.objects.filter(user_id=user_id, pk=order_id).prefetch_related("lines", "events").first()
    if order is None:
        raise NotFound("Order not found")
    return order
