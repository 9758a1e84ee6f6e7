"""Writes of the payments service: each one transaction, recording what orders must learn."""

from __future__ import annotations

import logging
import uuid
from decimal import Decimal

from django.db import transaction

from shopsite import contracts
from shopsite.bus import statements
from shopsite.errors import ApplicationError
from shopsite.transactions import message_transaction

from .gateway import CardRejected, get_gateway
from .models import Charge, OutboxMessage, PaymentMethod, Refund

log = logging.getLogger(__name__)
DB = "payments"

INVALID_METHOD = "invalid_payment_method"


def payment_method_create(
    *, user_id: int, card_number: str, exp_month: int, exp_year: int, cvc: str
) -> PaymentMethod:
    if exp_year < 100:
        exp_year += 2000
    try:
        card = get_gateway().tokenize(card_number=card_number, exp_month=exp_month, exp_year=exp_year, cvc=cvc)
    except CardRejected as exc:
        # Not chained: the gateway's frames hold the number, this error may be logged.
        raise ApplicationError(str(exc)) from None
    with transaction.atomic(using=DB):
        return PaymentMethod.objects.create(
            user_id=user_id, token=card.token, brand=card.brand, last4=card.last4, exp_month=exp_month, exp_year=exp_year
        )


def charge_for_order(
    *, order_id: uuid.UUID, user_id: int, amount: Decimal, currency: str, payment_method_id: uuid.UUID
) -> Charge:
    """Charge the order once; a repeated request returns the first attempt untouched.

    A GatewayError propagates: the request is retried later, and the gateway's
    idempotency key (the order id) makes sure the card is charged only once.
    """
    with message_transaction(DB):
        existing = statements.select_one(Charge, DB, order_id=order_id)
        if existing is not None:
            return existing
        charge = Charge(
            order_id=order_id, user_id=user_id, payment_method_id=payment_method_id, amount=amount, currency=currency
        )
        method = statements.select_one(PaymentMethod, DB, pk=payment_method_id, user_id=user_id)
        if method is None:
            return _charge_failed(charge, code=INVALID_METHOD, reason="The payment method is unknown")
        result = get_gateway().charge(
            token=method.token, amount=amount, currency=currency, idempotency_key=str(order_id)
        )
        charge.gateway_reference = result.reference
        if not result.succeeded:
            return _charge_failed(charge, code=result.code, reason=result.message)
        charge.status = Charge.Status.SUCCEEDED
        statements.create_later(DB, charge)  # with the outbox's row
        log.info("charged order %s: %s %s", order_id, amount, currency)
        OutboxMessage.record(contracts.PaymentSucceeded(order_id=order_id, charge_id=charge.id, amount=amount))
    return charge


def _charge_failed(charge: Charge, *, code: str, reason: str) -> Charge:
    charge.status = Charge.Status.FAILED
    charge.failure_code = code
    statements.create_later(DB, charge)  # with the outbox's row
    log.info("charge for order %s failed: %s", charge.order_id, code)
    OutboxMessage.record(contracts.PaymentFailed(order_id=charge.order_id, code=code, reason=reason))
    return charge


def refund_for_order(*, order_id: uuid.UUID, reason: str) -> Refund | None:
    """Refund a captured payment in full, once; anything else has nothing to refund."""
    with message_transaction(DB):
        charge = Charge.objects.filter(
            order_id=order_id, status=Charge.Status.SUCCEEDED, refunded_amount=0
        ).first()
        if charge is None:
            return None
        result = get_gateway().refund(
            reference=charge.gateway_reference, amount=charge.amount, idempotency_key=f"refund-{order_id}"
        )
        refund = Refund.objects.create(
            charge=charge, amount=charge.amount, gateway_reference=result.reference, reason=reason
        )
        charge.refunded_amount = charge.amount
        charge.save(update_fields=["refunded_amount"])
        OutboxMessage.record(
            contracts.PaymentRefunded(order_id=order_id, charge_id=charge.id, refund_id=refund.id, amount=refund.amount)
        )
    return refund
