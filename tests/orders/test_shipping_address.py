"""The order's shipping address: stored by field, said in order.confirmed and order.shipped, and still taken
from a cart.checked_out of version 1, whose address was one string."""

import json
import uuid
from decimal import Decimal

import pytest

from orders import handlers, services
from orders.models import Order, OutboxMessage
from shopsite import contracts
from shopsite.bus.envelope import Envelope, InvalidMessage
from shopsite.testing import ADDRESS, an_address, recorded

pytestmark = pytest.mark.django_db(databases=["orders"])

LINES = [{"product_id": 1, "sku": "MUG", "name": "Mug", "unit_price": "9.50", "quantity": 2}]


def wire(type: str, version: int, payload: dict) -> bytes:
    """A message as a producer of that version put it on the broker."""
    return json.dumps({
        "id": str(uuid.uuid4()), "type": type, "version": version, "occurred_at": "2026-01-01T00:00:00+00:00",
        "producer": "cart", "correlation_id": str(uuid.uuid4()), "causation_id": None, "payload": payload,
    }).encode()


def checked_out_v1(shipping_address) -> dict:
    return {
        "checkout_id": str(uuid.uuid4()), "order_id": str(uuid.uuid4()), "user_id": 7, "lines": LINES,
        "total": "19.00", "currency": "USD", "shipping_address": shipping_address,
        "payment_method_id": str(uuid.uuid4()),
    }


def confirm(order_id) -> None:
    services.order_stock_reserved(order_id=order_id)
    services.order_payment_succeeded(order_id=order_id, charge_id=uuid.uuid4(), amount=Decimal("19.00"))


def test_a_checkout_of_version_1_with_its_string_address_still_becomes_an_order():
    payload = checked_out_v1("Casey Customer\n1 Main St\nSpringfield")

    message = Envelope.from_json(wire("cart.checked_out", 1, payload)).message()
    handlers.place_order(message)

    order = Order.objects.get(pk=payload["order_id"])
    assert order.shipping_text == "Casey Customer\n1 Main St\nSpringfield"
    assert (order.shipping_name, order.shipping_line1, order.shipping_country) == ("", "", "")
    assert order.shipping_address.lines() == ["Casey Customer", "1 Main St", "Springfield"]
    assert order.lines.count() == 1 and order.status == "pending"
    # ...and its confirmation says where it goes, as it was written.
    confirm(order.id)
    [confirmed] = recorded(OutboxMessage, "order.confirmed")
    assert confirmed["shipping_address"] == {"text": "Casey Customer\n1 Main St\nSpringfield"}


def test_a_checkout_of_version_2_stores_the_address_by_field():
    payload = checked_out_v1({**ADDRESS, "line2": "Apt 4"})

    handlers.place_order(Envelope.from_json(wire("cart.checked_out", 2, payload)).message())

    order = Order.objects.get(pk=payload["order_id"])
    assert (order.shipping_name, order.shipping_line1, order.shipping_line2, order.shipping_city,
            order.shipping_region, order.shipping_postal_code, order.shipping_country, order.shipping_text) == (
        "Casey Customer", "1 Main St", "Apt 4", "Springfield", "IL", "62701", "US", "")
    assert order.shipping_address == an_address(line2="Apt 4")


@pytest.mark.parametrize(
    ("version", "shipping_address", "reason"),
    [
        (1, {**ADDRESS}, "could not be upcast: version 1 carries the shipping address as a string"),
        (1, None, "could not be upcast"),
        (1, "", "payload does not match cart.checked_out v2: shipping_address"),
        (2, "1 Main St", "payload does not match cart.checked_out v2"),  # v2 carries an object
        (2, {**ADDRESS, "country": "XX"}, "unknown country code"),
        (3, {**ADDRESS}, r"version 3 is not supported \(expected 1 or 2\)"),
        (0, "1 Main St", r"version 0 is not supported \(expected 1 or 2\)"),
    ],
)
def test_what_no_version_could_have_sent_is_refused_with_the_reason(version, shipping_address, reason):
    body = wire("cart.checked_out", version, checked_out_v1(shipping_address))

    with pytest.raises(InvalidMessage, match=reason):
        Envelope.from_json(body).message()


def test_confirmed_and_shipped_say_where_the_order_goes():
    checkout = contracts.CartCheckedOut(
        checkout_id=uuid.uuid4(), order_id=uuid.uuid4(), user_id=7, total=Decimal("19.00"),
        lines=[contracts.CheckoutLine(product_id=1, sku="MUG", name="Mug", unit_price=Decimal("9.50"), quantity=2)],
        shipping_address=an_address(country="DE", region=""), payment_method_id=uuid.uuid4(),
    )
    order = services.order_place(checkout=checkout)
    confirm(order.id)
    services.order_ship(order_id=order.id)

    expected = {**ADDRESS, "country": "DE", "region": "", "line2": ""}
    assert [m["shipping_address"] for m in recorded(OutboxMessage, "order.confirmed")] == [expected]
    assert [m["shipping_address"] for m in recorded(OutboxMessage, "order.shipped")] == [expected]
    # The envelope carries the current version, which every consumer reads.
    envelope = json.loads(OutboxMessage.objects.filter(type="order.shipped").get().body)
    assert envelope["version"] == contracts.OrderShipped.VERSION == 2


def test_an_order_confirmed_or_shipped_of_version_1_is_read_without_an_address():
    payload = {"order_id": str(uuid.uuid4()), "user_id": 7, "total": "19.00", "currency": "USD",
               "occurred_at": "2026-01-01T00:00:00Z"}

    confirmed = Envelope.from_json(wire("order.confirmed", 1, {**payload, "lines": LINES})).message()
    shipped = Envelope.from_json(wire("order.shipped", 1, payload)).message()

    assert confirmed.shipping_address is None and shipped.shipping_address is None
    assert confirmed.lines[0].sku == "MUG"
