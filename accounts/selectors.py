"""Reads of the accounts service."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Count, QuerySet, Sum

from .models import CustomerOrder, InboxItem


def user_summary(*, user_id: int) -> dict:
    """How many orders the user completed and what they spent on them."""
    totals = CustomerOrder.objects.filter(user_id=user_id, status__in=CustomerOrder.COMPLETED).aggregate(
        orders_count=Count("order_id"), total_spent=Sum("total")
    )
    return {"orders_count": totals["orders_count"], "total_spent": totals["total_spent"] or Decimal("0.00")}


def inbox_list(*, user_id: int) -> QuerySet[InboxItem]:
    return InboxItem.objects.filter(user_id=user_id).order_by("-sent_at", "-notification_id")
