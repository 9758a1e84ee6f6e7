"""What the orders service does with each message it receives."""

from shopsite import contracts
from shopsite.bus.handlers import Handler

from . import services


def place_order(message: contracts.CartCheckedOut) -> None:
    services.order_place(checkout=message)


def request_payment(message: contracts.StockReserved) -> None:
    services.order_stock_reserved(order_id=message.order_id)


def cancel_for_stock(message: contracts.StockRejected) -> None:
    services.order_stock_rejected(order_id=message.order_id, shortages=message.shortages)


def confirm_order(message: contracts.PaymentSucceeded) -> None:
    services.order_payment_succeeded(order_id=message.order_id, charge_id=message.charge_id,
                                     amount=message.amount)


def cancel_for_payment(message: contracts.PaymentFailed) -> None:
    services.order_payment_failed(order_id=message.order_id, code=message.code, reason=message.reason)


def note_refund(message: contracts.PaymentRefunded) -> None:
    services.order_payment_refunded(order_id=message.order_id, amount=message.amount)


def note_notification(message: contracts.NotificationSent) -> None:
    if message.order_id is not None:
        services.order_customer_notified(order_id=message.order_id, subject=message.subject)


def note_failed_notification(message: contracts.NotificationFailed) -> None:
    if message.order_id is not None:
        services.order_notification_failed(order_id=message.order_id, error=message.error)


def note_stock_released(message: contracts.StockReleased) -> None:
    services.order_stock_released(order_id=message.order_id)


#: Each message type with its handler, named by the key its inbox rows carry: the key stays
#: when the function is renamed or moved, and is never reused (docs/handler-keys.md).
HANDLERS = {
    contracts.CartCheckedOut: Handler("orders.place-order", place_order),
    contracts.StockReserved: Handler("orders.request-payment", request_payment),
    contracts.StockRejected: Handler("orders.cancel-for-stock", cancel_for_stock),
    contracts.StockReleased: Handler("orders.note-stock-released", note_stock_released),
    contracts.PaymentSucceeded: Handler("orders.confirm-order", confirm_order),
    contracts.PaymentFailed: Handler("orders.cancel-for-payment", cancel_for_payment),
    contracts.PaymentRefunded: Handler("orders.note-refund", note_refund),
    contracts.NotificationSent: Handler("orders.note-notification", note_notification),
    contracts.NotificationFailed: Handler("orders.note-failed-notification", note_failed_notification),
}
