"""Reads of the accounts service."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Count, QuerySet, Sum

from .models import ApiToken, CustomerOrder, InboxItem, api_token_digest


def user_summary(*, user_id: int) -> dict:
    """How many orders the user completed and what they spent on them."""
    totals = CustomerOrder.objects.filter(user_id=user_id, status__in=CustomerOrder.COMPLETED).aggregate(
        orders_count=Count("order_id"), total_spent=Sum("total")
    )
    return {"orders_count": totals["orders_count"], "total_spent": totals["total_spent"] or Decimal("0.00")}


def inbox_list(*, user_id: int) -> QuerySet[InboxItem]:
    return InboxItem.objects.filter(user_id=user_id).order_by("-sent_at", "-notification_id")


def inbox_filter(*, user_id: int, unread: bool | None = None, kind: str | None = None) -> QuerySet[InboxItem]:
    """The user's inbox narrowed down; ``None`` leaves a criterion out."""
    items = inbox_list(user_id=user_id)
    if unread is not None:
        items = items.filter(read_at__isnull=unread)
    if kind:
        items = items.filter(kind=kind)
    return items


def inbox_unread_count(*, user_id: int) -> int:
    return InboxItem.objects.filter(user_id=user_id, read_at__isnull=True).count()


def api_token_find(*, key: str) -> ApiToken | None:
    """The unexpired token with this key, with its user."""
    tokens = ApiToken.objects.select_related("user").filter(created_at__gt=ApiToken.oldest_valid())
    return tokens.filter(digest=api_token_digest(key)).first()
