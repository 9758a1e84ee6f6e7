import json
import uuid
from decimal import Decimal

import pytest
from pydantic import ValidationError

from shopsite import contracts
from shopsite.bus.envelope import Envelope, InvalidMessage


def sample() -> Envelope:
    message = contracts.PaymentSucceeded(order_id=uuid.uuid4(), charge_id=uuid.uuid4(), amount=Decimal("12.30"))
    return Envelope.wrap(message, producer="payments", correlation_id=uuid.uuid4())


def test_an_envelope_survives_the_wire():
    envelope = sample()

    decoded = Envelope.from_json(envelope.to_json().encode())

    assert decoded == envelope
    assert decoded.message().amount == Decimal("12.30")


def with_changes(**changes) -> bytes:
    data = json.loads(sample().to_json())
    data.update(changes)
    return json.dumps(data).encode()


def without(key: str) -> bytes:
    data = json.loads(sample().to_json())
    del data[key]
    return json.dumps(data).encode()


@pytest.mark.parametrize(
    "body, reason",
    [
        (b"{not json", "malformed JSON"),
        (b"[]", "not an envelope"),
        (without("producer"), "not an envelope"),
        (with_changes(id="nope"), "invalid envelope"),
        (with_changes(type="payment.teleported"), "unknown message type"),
        (with_changes(version=2), r"version 2 is not supported \(expected 1\); newer than this consumer reads"),
        (with_changes(version=0), r"version 0 is not supported \(expected 1\)$"),
        (with_changes(payload={"order_id": "x"}), "payload does not match payment.succeeded"),
    ],
    # Named, not shown: the bodies hold fresh ids, and pytest-xdist needs each worker to collect the same tests.
    ids=["malformed-json", "a-list", "no-producer", "bad-id", "unknown-type", "newer-version", "version-0",
         "bad-payload"],
)
def test_a_message_that_breaks_its_contract_is_refused_with_the_reason(body, reason):
    with pytest.raises(InvalidMessage, match=reason):
        Envelope.from_json(body).message()


def test_every_message_type_is_declared_once():
    assert len(contracts.MESSAGE_TYPES) == len(set(contracts.MESSAGE_TYPES.values()))
    assert "cart.checked_out" in contracts.MESSAGE_TYPES


# --- read tolerantly, build strictly (docs/messages.md) ---------------------

LINE = {"product_id": 1, "sku": "MUG", "name": "Mug", "unit_price": "9.50", "quantity": 2}
ADDRESS = {"name": "Casey", "line1": "1 Main St", "city": "Springfield", "region": "IL", "postal_code": "62701",
           "country": "US"}


def checkout_body(**payload_changes) -> bytes:
    payload = {"checkout_id": str(uuid.uuid4()), "order_id": str(uuid.uuid4()), "user_id": 7, "lines": [LINE],
               "total": "19.00", "currency": "USD", "shipping_address": ADDRESS,
               "payment_method_id": str(uuid.uuid4()), **payload_changes}
    envelope = Envelope(type="cart.checked_out", version=2, producer="cart", payload=payload,
                        correlation_id=uuid.uuid4())
    return envelope.to_json().encode()


def test_a_field_the_consumer_does_not_know_is_ignored():
    message = Envelope.from_json(checkout_body(gift_note="Happy birthday!")).message()

    assert message.total == Decimal("19.00")
    assert "gift_note" not in message.model_dump()


def test_a_field_it_does_not_know_inside_a_record_is_ignored_too():
    body = checkout_body(lines=[{**LINE, "weight_grams": 250}], shipping_address={**ADDRESS, "building": "B"})

    message = Envelope.from_json(body).message()

    assert message.lines[0].quantity == 2 and "weight_grams" not in message.lines[0].model_dump()
    assert message.shipping_address == contracts.Address(**ADDRESS)


def test_an_envelope_key_a_newer_release_added_is_ignored():
    message = Envelope.from_json(with_changes(traceparent="00-abc-def-01")).message()

    assert message.amount == Decimal("12.30")


@pytest.mark.parametrize(
    "changes, reason",
    [
        ({"total": "a lot", "gift_note": "hi"}, "total: Input should be a valid decimal"),  # a known field of the wrong type
        ({"total": "-1.00", "gift_note": "hi"}, "total: Input should be greater than or equal to 0"),
        ({"lines": [{**LINE, "quantity": 0, "weight_grams": 250}]}, "lines.0.quantity"),
        ({"shipping_address": {**ADDRESS, "country": "XX", "building": "B"}}, "unknown country code"),
        ({"payment_method_id": None}, "payment_method_id: UUID input should be"),
    ],
)
def test_a_known_field_that_is_malformed_is_still_refused_beside_unknown_ones(changes, reason):
    with pytest.raises(InvalidMessage, match=reason):
        Envelope.from_json(checkout_body(**changes)).message()


def test_a_message_missing_a_required_field_is_refused():
    data = json.loads(checkout_body())
    del data["payload"]["order_id"]

    with pytest.raises(InvalidMessage, match="order_id: Field required"):
        Envelope.from_json(json.dumps(data)).message()


def test_our_own_code_cannot_build_a_message_with_a_field_its_contract_does_not_have():
    """Tolerance is for reading what arrives: a misspelt field in a message we build fails where it is written."""
    with pytest.raises(ValidationError, match="amuont"):
        contracts.PaymentSucceeded(order_id=uuid.uuid4(), charge_id=uuid.uuid4(), amount=Decimal("1.00"),
                                   amuont=Decimal("1.00"))
    with pytest.raises(ValidationError, match="quantiy"):
        contracts.CheckoutLine(**{**LINE, "quantity": None, "quantiy": 2})
    with pytest.raises(ValidationError, match="postcode"):
        contracts.Address(**ADDRESS, postcode="62701")
