"""An order keeps the image of each product as it was bought, and tells the confirmation email."""

import uuid
from decimal import Decimal

import pytest

from orders import handlers
from orders.models import Order, OutboxMessage
from shopsite import contracts
from shopsite.testing import ADDRESS, an_address, recorded

pytestmark = pytest.mark.django_db(databases=["orders"])

IMAGE = "https://media.example.com/catalog/products/5f1e.png"
THUMBNAIL = "https://media.example.com/catalog/products/5f1e-thumb.jpg"


def checked_out(lines) -> contracts.CartCheckedOut:
    return contracts.CartCheckedOut(
        checkout_id=uuid.uuid4(), order_id=uuid.uuid4(), user_id=7, lines=lines,
        total=sum(line.unit_price * line.quantity for line in lines), shipping_address=an_address(),
        payment_method_id=uuid.uuid4(),
    )


def test_order_lines_keep_the_images_and_the_confirmation_names_them():
    checkout = checked_out([
        contracts.CheckoutLine(product_id=1, sku="MUG", name="Mug", unit_price=Decimal("9.50"), quantity=2,
                               image_url=IMAGE, thumbnail_url=THUMBNAIL),
        contracts.CheckoutLine(product_id=2, sku="TEE", name="Tee", unit_price=Decimal("20.00"), quantity=1),
    ])

    handlers.place_order(checkout)
    handlers.request_payment(contracts.StockReserved(order_id=checkout.order_id, lines=[]))
    handlers.confirm_order(contracts.PaymentSucceeded(order_id=checkout.order_id, charge_id=uuid.uuid4(),
                                                      amount=Decimal("39.00")))

    lines = Order.objects.get(pk=checkout.order_id).lines.all()
    assert [(line.image_url, line.thumbnail_url) for line in lines] == [(IMAGE, THUMBNAIL), ("", "")]
    [confirmed] = recorded(OutboxMessage, "order.confirmed")
    mug, tee = confirmed["lines"]
    assert (mug["image_url"], mug["thumbnail_url"]) == (IMAGE, THUMBNAIL)
    assert "image_url" not in tee


def test_a_checkout_from_before_images_places_an_order_without_them():
    payload = {
        "checkout_id": str(uuid.uuid4()), "order_id": str(uuid.uuid4()), "user_id": 7, "total": "9.50",
        "lines": [{"product_id": 1, "sku": "MUG", "name": "Mug", "unit_price": "9.50", "quantity": 1}],
        "currency": "USD", "shipping_address": ADDRESS, "payment_method_id": str(uuid.uuid4()),
    }

    handlers.place_order(contracts.CartCheckedOut.model_validate(payload))

    [line] = Order.objects.get(pk=payload["order_id"]).lines.all()
    assert (line.image_url, line.thumbnail_url) == ("", "")
