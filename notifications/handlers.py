"""What the notifications service does with the messages it receives."""

from __future__ import annotations

from shopsite import contracts
from shopsite.bus.handlers import Handler

from .models import Notification
from .services import notification_send_account_exists, notification_send_for_order, recipient_apply


def user_changed(message: contracts.UserRegistered | contracts.UserUpdated) -> None:
    recipient_apply(
        user_id=message.user_id, email=message.email, name=message.name, is_active=message.is_active,
        version=message.version or 0,  # a message from before versions: see shopsite/replicas.py
    )


def registration_repeated(message: contracts.UserRegistrationRepeated) -> None:
    notification_send_account_exists(user_id=message.user_id)


def order_confirmed(message: contracts.OrderConfirmed) -> None:
    notification_send_for_order(
        kind=Notification.Kind.ORDER_CONFIRMED,
        order_id=message.order_id,
        user_id=message.user_id,
        total=message.total,
        currency=message.currency,
        lines=message.lines,
        shipping_address=message.shipping_address,
    )


def order_cancelled(message: contracts.OrderCancelled) -> None:
    notification_send_for_order(
        kind=Notification.Kind.ORDER_CANCELLED,
        order_id=message.order_id,
        user_id=message.user_id,
        total=message.total,
        currency=message.currency,
        reason=message.reason,
        refund_due=message.refund_due,
    )


def order_shipped(message: contracts.OrderShipped) -> None:
    notification_send_for_order(
        kind=Notification.Kind.ORDER_SHIPPED,
        order_id=message.order_id,
        user_id=message.user_id,
        total=message.total,
        currency=message.currency,
        shipping_address=message.shipping_address,
    )


def order_delivered(message: contracts.OrderDelivered) -> None:
    notification_send_for_order(
        kind=Notification.Kind.ORDER_DELIVERED,
        order_id=message.order_id,
        user_id=message.user_id,
        total=message.total,
        currency=message.currency,
    )


#: Each message type with its handler, named by the key its inbox rows carry: the key stays
#: when the function is renamed or moved, and is never reused (docs/handler-keys.md).
HANDLERS = {
    contracts.UserRegistered: Handler("notifications.user-changed", user_changed),
    contracts.UserUpdated: Handler("notifications.user-changed", user_changed),
    contracts.UserRegistrationRepeated: Handler("notifications.registration-repeated", registration_repeated),
    contracts.OrderConfirmed: Handler("notifications.order-confirmed", order_confirmed),
    contracts.OrderCancelled: Handler("notifications.order-cancelled", order_cancelled),
    contracts.OrderShipped: Handler("notifications.order-shipped", order_shipped),
    contracts.OrderDelivered: Handler("notifications.order-delivered", order_delivered),
}

#: Each email is committed on its own: the email goes out before its
#: transaction commits, so a crash mid-batch would send every email of the
#: batch again; one at a time, at most one is repeated.
BATCH_SIZE = 1
