import uuid
from datetime import date
from decimal import Decimal

import pytest

from payments import handlers
from payments.gateway import GatewayError
from payments.models import Charge, OutboxMessage, PaymentMethod, Refund
from payments.services import payment_method_create
from shopsite import contracts
from shopsite.errors import ApplicationError
from shopsite.testing import consumer_transaction, recorded

pytestmark = pytest.mark.django_db(databases=["payments"])

GOOD_CARD = "4242424242424242"
DECLINED_CARD = "4000000000000002"


class UnreachableGateway:
    """A gateway whose network is down: every call fails."""

    def tokenize(self, **kwargs):
        raise GatewayError("connection refused")

    charge = refund = tokenize


def card(number=GOOD_CARD, *, user_id=1):
    return payment_method_create(user_id=user_id, card_number=number, exp_month=12, exp_year=date.today().year + 1,
                                 cvc="123")


def payment_request(method, *, order_id=None, user_id=1, amount="25.00"):
    return contracts.RequestPayment(
        order_id=order_id or uuid.uuid4(), user_id=user_id, amount=Decimal(amount), currency="USD",
        payment_method_id=method.id,
    )


def test_a_repeated_request_charges_exactly_once():
    request = payment_request(card())

    handlers.payment_requested(request)
    handlers.payment_requested(request)

    charge = Charge.objects.get()
    assert (charge.order_id, charge.status, charge.amount, charge.gateway_reference[:8]) == (
        request.order_id, "succeeded", Decimal("25.00"), "ch_test_"
    )
    assert recorded(OutboxMessage, "payment.succeeded") == [
        {"order_id": str(request.order_id), "charge_id": str(charge.id), "amount": "25.00"}
    ]
    assert recorded(OutboxMessage, "payment.failed") == []


def test_a_declined_card_fails_the_payment_once():
    request = payment_request(card(DECLINED_CARD))

    handlers.payment_requested(request)
    handlers.payment_requested(request)

    charge = Charge.objects.get()
    assert (charge.status, charge.failure_code) == ("failed", "card_declined")
    assert recorded(OutboxMessage, "payment.failed") == [
        {"order_id": str(request.order_id), "code": "card_declined", "reason": "Your card was declined"}
    ]
    assert recorded(OutboxMessage, "payment.succeeded") == []


def test_someone_elses_payment_method_is_never_charged():
    bobs_card = card(user_id=2)
    request = payment_request(bobs_card, user_id=1)

    handlers.payment_requested(request)

    charge = Charge.objects.get()
    assert (charge.status, charge.failure_code, charge.gateway_reference) == ("failed", "invalid_payment_method", "")
    assert [m["code"] for m in recorded(OutboxMessage, "payment.failed")] == ["invalid_payment_method"]


def test_an_unknown_payment_method_fails_the_payment():
    request = contracts.RequestPayment(order_id=uuid.uuid4(), user_id=1, amount=Decimal("5.00"), currency="USD",
                                       payment_method_id=uuid.uuid4())

    handlers.payment_requested(request)

    assert Charge.objects.get().failure_code == "invalid_payment_method"


def test_an_unreachable_gateway_raises_so_the_request_is_retried(settings):
    request = payment_request(card())
    settings.PAYMENT_GATEWAY = f"{__name__}.UnreachableGateway"

    with pytest.raises(GatewayError), consumer_transaction("payments"):
        handlers.payment_requested(request)
    assert Charge.objects.count() == 0
    assert recorded(OutboxMessage) == []


def test_a_refund_request_refunds_a_captured_payment_once():
    request = payment_request(card())
    handlers.payment_requested(request)
    refund_request = contracts.RequestRefund(order_id=request.order_id, user_id=1, reason="customer_request")

    handlers.refund_requested(refund_request)
    handlers.refund_requested(refund_request)

    refund = Refund.objects.get()
    charge = Charge.objects.get()
    assert (refund.charge_id, refund.amount, refund.reason) == (charge.id, Decimal("25.00"), "customer_request")
    assert charge.refunded_amount == Decimal("25.00")
    assert recorded(OutboxMessage, "payment.refunded") == [
        {"order_id": str(request.order_id), "charge_id": str(charge.id), "refund_id": str(refund.id),
         "amount": "25.00"}
    ]


def test_nothing_is_refunded_when_nothing_was_captured():
    declined = payment_request(card(DECLINED_CARD))
    handlers.payment_requested(declined)

    handlers.refund_requested(contracts.RequestRefund(order_id=declined.order_id, user_id=1, reason="x"))
    handlers.refund_requested(contracts.RequestRefund(order_id=uuid.uuid4(), user_id=1, reason="x"))

    assert Refund.objects.count() == 0
    assert recorded(OutboxMessage, "payment.refunded") == []


def test_an_invalid_card_is_a_400_error_and_stores_nothing():
    with pytest.raises(ApplicationError, match="card number is invalid"):
        card("4242424242424241")

    assert PaymentMethod.objects.count() == 0


def test_the_card_number_is_stored_and_sent_nowhere():
    method = card(GOOD_CARD)
    handlers.payment_requested(payment_request(method))

    assert (method.brand, method.last4) == ("visa", "4242")
    for model in (PaymentMethod, Charge, OutboxMessage):
        for row in model.objects.values():
            assert all(GOOD_CARD not in str(value) for value in row.values()), row
