"""What the catalog service does with the messages it subscribes to."""

from __future__ import annotations

from datetime import datetime

from shopsite import contracts
from shopsite.bus import context

from . import services


def _sent_at() -> datetime | None:
    # The consumer exposes the envelope being handled; its time orders the
    # user messages, which carry no version of their own.
    envelope = context.current()
    return envelope.occurred_at if envelope else None


def user_role_replicate(message: contracts.UserRegistered | contracts.UserUpdated) -> None:
    services.user_role_apply(
        user_id=message.user_id,
        email=message.email,
        is_staff=message.is_staff,
        role=message.role,
        is_active=getattr(message, "is_active", True),
        as_of=_sent_at(),
    )


def stock_reserve(message: contracts.OrderPlaced) -> None:
    services.stock_reserve_for_order(
        order_id=message.order_id, lines=[(line.product_id, line.quantity) for line in message.lines]
    )


def stock_release(message: contracts.OrderCancelled) -> None:
    services.stock_release_for_order(order_id=message.order_id)


def stock_commit(message: contracts.OrderConfirmed) -> None:
    services.stock_commit_for_order(order_id=message.order_id)


HANDLERS = {
    contracts.UserRegistered: user_role_replicate,
    contracts.UserUpdated: user_role_replicate,
    contracts.OrderPlaced: stock_reserve,
    contracts.OrderCancelled: stock_release,
    contracts.OrderConfirmed: stock_commit,
}
