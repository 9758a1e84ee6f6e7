"""Reads of the accounts service."""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.db.models import Count, QuerySet, Sum

from shopsite.bus import statements
from shopsite.errors import NotFound

from .models import Address, ApiToken, CustomerOrder, InboxItem, api_token_digest

DB = "default"


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
    """The unexpired token with this key, with its user (asked on every API request: one statement, built once)."""
    return statements.select_related_one(ApiToken, DB, "user", digest=api_token_digest(key),
                                         created_at__gt=ApiToken.oldest_valid())


def address_list(*, user_id: int) -> QuerySet[Address]:
    """The user's address book: the default first, then the others in the order they were added."""
    return Address.objects.filter(user_id=user_id).order_by("-is_default", "created_at", "id")


def address_get(*, user_id: int, address_id: uuid.UUID) -> Address:
    """One of the user's addresses; another user's is as unknown as one that never was."""
    address = Address.objects.filter(user_id=user_id, pk=address_id).first()
    if address is None:
        raise NotFound("Unknown address", {"address_id": str(address_id)})
    return address


def address_default(*, user_id: int) -> Address | None:
    return Address.objects.filter(user_id=user_id, is_default=True).first()
