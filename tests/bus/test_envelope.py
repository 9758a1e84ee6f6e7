import json
import uuid
from decimal import Decimal

import pytest

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


@pytest.mark.parametrize(
    "body, reason",
    [
        (b"{not json", "malformed JSON"),
        (b"[]", "not an envelope"),
        (with_changes(extra=1), "not an envelope"),
        (with_changes(id="nope"), "invalid envelope"),
        (with_changes(type="payment.teleported"), "unknown message type"),
        (with_changes(version=2), "version 2 is not supported"),
        (with_changes(payload={"order_id": "x"}), "payload does not match payment.succeeded"),
    ],
)
def test_a_message_that_breaks_its_contract_is_refused_with_the_reason(body, reason):
    with pytest.raises(InvalidMessage, match=reason):
        Envelope.from_json(body).message()


def test_every_message_type_is_declared_once():
    assert len(contracts.MESSAGE_TYPES) == len(set(contracts.MESSAGE_TYPES.values()))
    assert "cart.checked_out" in contracts.MESSAGE_TYPES
