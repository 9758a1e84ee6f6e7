"""Reads of the payments service."""

from __future__ import annotations

import uuid

from django.db.models import QuerySet

from shopsite.bus import statements
from shopsite.errors import NotFound

from .models import Charge, PaymentMethod

DB = "payments"


def payment_method_get(*, user_id: int, method_id: uuid.UUID) -> PaymentMethod:
    """The user's own payment method; anyone else's is as unknown as a missing one."""
    method = statements.select_one(PaymentMethod, DB, pk=method_id, user_id=user_id)  # on every checkout
    if method is None:
        raise NotFound("Unknown payment method")
    return method


def payment_method_list(*, user_id: int) -> QuerySet[PaymentMethod]:
    return PaymentMethod.objects.filter(user_id=user_id).order_by("-created_at", "id")


def charge_list(*, user_id: int) -> QuerySet[Charge]:
    return Charge.objects.filter(user_id=user_id).order_by("-created_at", "id")


def charge_filter(*, user_id: int, status: str | None = None) -> QuerySet[Charge]:
    """The user's charges, of one status when given."""
    charges = charge_list(user_id=user_id)
    if status:
        charges = charges.filter(status=status)
    return charges
