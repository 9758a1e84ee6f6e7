"""Checkouts through the API, with every service running as its own process over RabbitMQ."""

import time
from decimal import Decimal

import pytest

from .shop import wait_for

pytestmark = pytest.mark.e2e

VISA_OK, VISA_DECLINED = "4242424242424242", "4000000000000002"


def available(shop, product_id: int) -> int:
    return shop.call("GET", f"/api/catalog/products/{product_id}/").json()["available"]


def test_a_successful_checkout_is_confirmed_paid_once_mailed_once_and_counted(shop, new_product):
    product = new_product(stock=10, price="12.50")
    customer = shop.customer()
    customer.add_to_cart(product["id"], 2)
    method = customer.card(VISA_OK)

    started = time.monotonic()
    response = customer.checkout(method, key="same-key")
    assert response.status_code == 202, response.text
    order_id = response.json()["order_id"]
    order = customer.order_when(order_id, {"confirmed", "cancelled"})
    elapsed = time.monotonic() - started
    print(f"\ncheckout -> confirmed in {elapsed * 1000:.0f} ms")

    assert order["status"] == "confirmed"
    assert Decimal(order["total"]) == Decimal("25.00")
    assert available(shop, product["id"]) == 8
    again = customer.checkout(method, key="same-key")
    assert again.status_code == 202 and again.json()["order_id"] == order_id
    assert customer.get("/api/orders/")["count"] == 1

    charges = customer.get("/api/payments/charges/")["results"]
    assert [(c["order_id"], c["status"]) for c in charges] == [(order_id, "succeeded")]

    def notified():
        inbox = customer.get("/api/notifications/")["results"]
        return [n for n in inbox if n["order_id"] == order_id and n["kind"] == "order_confirmed"]

    assert len(wait_for(notified, what="the confirmation in the inbox")) == 1
    mails = [m for m in shop.mails() if customer.email in m and order_id[:8] in m]
    assert len(mails) == 1
    assert VISA_OK not in "".join(shop.mails())

    me = wait_for(lambda: (m := customer.get("/api/accounts/me/"))["orders_count"] == 1 and m, what="the summary")
    assert Decimal(me["total_spent"]) == Decimal("25.00")
    timeline = [e["kind"] for e in customer.get(f"/api/orders/{order_id}/")["timeline"]]
    assert timeline[:5] == ["placed", "stock_reserved", "payment_requested", "paid", "confirmed"]
    wait_for(lambda: "customer_notified" in [e["kind"] for e in customer.get(f"/api/orders/{order_id}/")["timeline"]],
             what="the notification on the order's timeline")
    wait_for(lambda: customer.get("/api/cart/")["lines"] == [], what="the cart to be emptied by order.placed")


def test_a_free_order_is_confirmed_without_a_charge(shop, new_product):
    product = new_product(stock=3, price="0.00")
    customer = shop.customer()
    customer.add_to_cart(product["id"], 2)

    response = customer.checkout(customer.card(VISA_OK))
    assert response.status_code == 202, response.text
    order = customer.order_when(response.json()["order_id"], {"confirmed", "cancelled"})

    assert (order["status"], Decimal(order["total"])) == ("confirmed", Decimal("0.00"))
    assert customer.get("/api/payments/charges/")["results"] == []
    wait_for(lambda: available(shop, product["id"]) == 1, what="the stock to be taken")


def test_a_declined_card_cancels_the_order_and_restores_the_stock(shop, new_product):
    product = new_product(stock=5)
    customer = shop.customer()
    customer.add_to_cart(product["id"], 3)

    response = customer.checkout(customer.card(VISA_DECLINED))
    assert response.status_code == 202, response.text
    order = customer.order_when(response.json()["order_id"], {"confirmed", "cancelled"})

    assert (order["status"], order["cancel_reason"]) == ("cancelled", "payment_declined")
    wait_for(lambda: available(shop, product["id"]) == 5, what="the stock to be released")
    assert customer.get("/api/payments/charges/")["results"][0]["status"] == "failed"


def test_a_checkout_for_more_than_is_left_is_cancelled_as_out_of_stock(shop, new_product, staff_token):
    product = new_product(stock=4)
    customer = shop.customer()
    customer.add_to_cart(product["id"], 3)
    # With the cart's consumer stopped its replica cannot hear that the stock
    # went down, so the checkout is accepted and the catalog must refuse it.
    assert shop.stop("cart") == 0
    try:
        adjusted = shop.call("POST", f"/api/catalog/products/{product['id']}/stock/", token=staff_token,
                             json={"quantity_delta": -2})
        assert adjusted.status_code == 200, adjusted.text
        response = customer.checkout(customer.card(VISA_OK))
        assert response.status_code == 202, response.text
    finally:
        shop.start("cart")

    order = customer.order_when(response.json()["order_id"], {"confirmed", "cancelled"})
    assert (order["status"], order["cancel_reason"]) == ("cancelled", "out_of_stock")
    assert available(shop, product["id"]) == 2
    assert customer.get("/api/payments/charges/")["count"] == 0


def test_bad_card_numbers_are_refused_before_any_order_exists(shop):
    customer = shop.customer()
    response = customer.call("POST", "/api/payments/methods/",
                              json={"card_number": "4242424242424241", "exp_month": 12, "exp_year": 2031, "cvc": "123"})
    assert response.status_code == 400
    assert "4242424242424241" not in response.text
    assert customer.get("/api/orders/")["count"] == 0
