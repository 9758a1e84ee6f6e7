"""What the payments service does with the commands it receives."""

from __future__ import annotations

from shopsite import contracts
from shopsite.bus.handlers import Handler

from .services import charge_for_order, refund_for_order


def payment_requested(message: contracts.RequestPayment) -> None:
    charge_for_order(
        order_id=message.order_id,
        user_id=message.user_id,
        amount=message.amount,
        currency=message.currency,
        payment_method_id=message.payment_method_id,
    )


def refund_requested(message: contracts.RequestRefund) -> None:
    refund_for_order(order_id=message.order_id, reason=message.reason)


#: Each message type with its handler, named by the key its inbox rows carry: the key stays
#: when the function is renamed or moved, and is never reused (docs/handler-keys.md).
HANDLERS = {
    contracts.RequestPayment: Handler("payments.payment-requested", payment_requested),
    contracts.RequestRefund: Handler("payments.refund-requested", refund_requested),
}
