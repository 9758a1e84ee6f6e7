"""Shipping addresses through the running shop: a saved address at checkout, and a cart.checked_out of
version 1 (its address one string), as a shop from before structured addresses queued it."""

import json
import uuid

import pika
import pytest

from shopsite.bus import deployment
from shopsite.bus.names import Names
from shopsite.ids import short

from .shop import E2E_ADDRESS, wait_for

pytestmark = pytest.mark.e2e

VISA_OK = "4242424242424242"


def publish(shop, routing_key: str, body: bytes) -> None:
    """Publish ``body`` on the shop's exchange, marked as the shop's own, as an older release's relay did."""
    url = (shop.env.get("BUS_URL") or "amqp://guest:guest@127.0.0.1:5672/%2F").split(",")[0]
    connection = pika.BlockingConnection(pika.URLParameters(url))
    channel = connection.channel()
    channel.confirm_delivery()
    channel.basic_publish(
        Names(shop.env["BUS_PREFIX"]).exchange, routing_key, body,
        pika.BasicProperties(delivery_mode=2, content_type="application/json", type=routing_key,
                             headers={deployment.HEADER: shop.env["BUS_DEPLOYMENT"]}),
        mandatory=True,
    )
    connection.close()


def confirmation_mail(shop, customer, order_id: str) -> str:
    def mailed():
        return next((m for m in shop.mails() if customer.email in m and f"order {short(order_id)} is confirmed" in m),
                    None)

    return wait_for(mailed, what=f"the confirmation email of {order_id}")


def test_a_version_1_checkout_with_a_string_address_still_becomes_an_order(shop, new_product):
    product = new_product(stock=5, price="7.00")
    customer = shop.customer()
    method = customer.card(VISA_OK)
    user_id = customer.get("/api/accounts/me/")["id"]
    order_id = str(uuid.uuid4())
    payload = {
        "checkout_id": str(uuid.uuid4()), "order_id": order_id, "user_id": user_id,
        "lines": [{"product_id": product["id"], "sku": product["sku"], "name": product["name"],
                   "unit_price": "7.00", "quantity": 2}],
        "total": "14.00", "currency": "USD", "shipping_address": "Casey Old\n9 Legacy Lane\nOldtown 12345",
        "payment_method_id": method,
    }
    envelope = {
        "id": str(uuid.uuid4()), "type": "cart.checked_out", "version": 1,
        "occurred_at": "2026-01-01T00:00:00+00:00", "producer": "cart",
        "correlation_id": payload["checkout_id"], "causation_id": None, "payload": payload,
    }

    publish(shop, "cart.checked_out", json.dumps(envelope).encode())

    order = customer.order_when(order_id, {"confirmed", "cancelled"})
    assert order["status"] == "confirmed"
    assert order["total"] == "14.00"
    assert order["shipping_address"]["text"] == "Casey Old\n9 Legacy Lane\nOldtown 12345"
    assert order["shipping_address"]["lines"] == ["Casey Old", "9 Legacy Lane", "Oldtown 12345"]
    assert "We will ship it to:\n  Casey Old\n  9 Legacy Lane\n  Oldtown 12345\n" in confirmation_mail(
        shop, customer, order_id)


def test_a_checkout_with_a_saved_address_ships_there_and_says_so(shop, new_product):
    product = new_product(stock=5, price="9.00")
    customer = shop.customer()
    customer.add_to_cart(product["id"], 1)
    method = customer.card(VISA_OK)
    response = customer.call("POST", "/api/accounts/addresses/", json={**E2E_ADDRESS, "line2": "Hinterhaus"})
    assert response.status_code == 201, response.text
    saved = response.json()

    response = customer.call("POST", "/api/cart/checkout/",
                             json={"payment_method_id": method, "shipping_address_id": saved["id"]},
                             headers={"Idempotency-Key": uuid.uuid4().hex})
    assert response.status_code == 202, response.text
    order_id = response.json()["order_id"]

    order = customer.order_when(order_id, {"confirmed", "cancelled"})
    assert order["status"] == "confirmed"
    assert order["shipping_address"]["lines"] == saved["lines"] == [
        "Test Customer", "1 Test Street", "Hinterhaus", "12345 Testville", "Germany"]
    assert "\n  1 Test Street\n  Hinterhaus\n  12345 Testville\n  Germany\n" in confirmation_mail(
        shop, customer, order_id)
