"""What the catalog service does with the messages it subscribes to."""

from __future__ import annotations

from shopsite import contracts
from shopsite.bus.handlers import Handler

from . import services


def user_role_replicate(message: contracts.UserRegistered | contracts.UserUpdated) -> None:
    services.user_role_apply(
        user_id=message.user_id,
        email=message.email,
        is_staff=message.is_staff,
        role=message.role,
        is_active=message.is_active,
        version=message.version or 0,  # a message from before versions: see shopsite/replicas.py
    )


def stock_reserve(message: contracts.OrderPlaced) -> None:
    services.stock_reserve_for_order(
        order_id=message.order_id, lines=[(line.product_id, line.quantity) for line in message.lines]
    )


def stock_release(message: contracts.OrderCancelled) -> None:
    services.stock_release_for_order(order_id=message.order_id)


def stock_commit(message: contracts.OrderConfirmed) -> None:
    services.stock_commit_for_order(order_id=message.order_id)


#: Each message type with its handler, named by the key its inbox rows carry: the key stays
#: when the function is renamed or moved, and is never reused (docs/handler-keys.md).
HANDLERS = {
    contracts.UserRegistered: Handler("catalog.user-role-replicate", user_role_replicate),
    contracts.UserUpdated: Handler("catalog.user-role-replicate", user_role_replicate),
    contracts.OrderPlaced: Handler("catalog.stock-reserve", stock_reserve),
    contracts.OrderCancelled: Handler("catalog.stock-release", stock_release),
    contracts.OrderConfirmed: Handler("catalog.stock-commit", stock_commit),
}
