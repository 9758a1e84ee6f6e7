"""What the accounts service does with the messages it receives."""

from __future__ import annotations

from shopsite import contracts
from shopsite.bus.handlers import Handler

from .models import CustomerOrder
from .services import customer_order_apply, inbox_item_record


OrderStatusMessage = contracts.OrderConfirmed | contracts.OrderCancelled | contracts.OrderShipped | contracts.OrderDelivered


def _apply_status(message: OrderStatusMessage, status: str) -> None:
    customer_order_apply(
        order_id=message.order_id, user_id=message.user_id, status=status, total=message.total, version=message.version
    )


def order_confirmed(message: contracts.OrderConfirmed) -> None:
    _apply_status(message, CustomerOrder.Status.CONFIRMED)


def order_cancelled(message: contracts.OrderCancelled) -> None:
    _apply_status(message, CustomerOrder.Status.CANCELLED)


def order_shipped(message: contracts.OrderShipped) -> None:
    _apply_status(message, CustomerOrder.Status.SHIPPED)


def order_delivered(message: contracts.OrderDelivered) -> None:
    _apply_status(message, CustomerOrder.Status.DELIVERED)


def notification_sent(message: contracts.NotificationSent) -> None:
    inbox_item_record(
        notification_id=message.notification_id,
        user_id=message.user_id,
        order_id=message.order_id,
        kind=message.kind,
        subject=message.subject,
        body=message.body,
        sent_at=message.sent_at,
    )


#: Each message type with its handler, named by the key its inbox rows carry: the key stays
#: when the function is renamed or moved, and is never reused (docs/handler-keys.md).
HANDLERS = {
    contracts.OrderConfirmed: Handler("accounts.order-confirmed", order_confirmed),
    contracts.OrderCancelled: Handler("accounts.order-cancelled", order_cancelled),
    contracts.OrderShipped: Handler("accounts.order-shipped", order_shipped),
    contracts.OrderDelivered: Handler("accounts.order-delivered", order_delivered),
    contracts.NotificationSent: Handler("accounts.notification-sent", notification_sent),
}
