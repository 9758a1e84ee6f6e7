"""Checkouts through the API, with every service running as its own process over RabbitMQ."""

import time
from decimal import Decimal

import pytest

from shopsite.ids import short

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
    assert customer.get("/api/cart/")["lines"] == []  # emptied by the checkout itself
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
    mails = [m for m in shop.mails() if customer.email in m and short(order_id) in m]
    assert len(mails) == 1
    assert VISA_OK not in "".join(shop.mails())

    me = wait_for(lambda: (m := customer.get("/api/accounts/me/"))["orders_count"] == 1 and m, what="the summary")
    assert Decimal(me["total_spent"]) == Decimal("25.00")
    timeline = [e["kind"] for e in customer.get(f"/api/orders/{order_id}/")["timeline"]]
    assert timeline[:5] == ["placed", "stock_reserved", "payment_requested", "paid", "confirmed"]
    wait_for(lambda: "customer_notified" in [e["kind"] for e in customer.get(f"/api/orders/{order_id}/")["timeline"]],
             what="the notification on the order's timeline")
    assert customer.get("/api/cart/")["lines"] == []


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
    [line] = wait_for(lambda: customer.get("/api/cart/")["lines"], what="the order's lines back in the cart")
    assert (line["product_id"], line["quantity"]) == (product["id"], 3)
    assert line["notice"] == (f"{product['name']} is back in your cart: your order #{short(order['id'])} was "
                              "cancelled because the payment was declined.")


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

    def restored():
        lines = customer.get("/api/cart/")["lines"]
        return lines if lines and lines[0]["available"] == 2 else None  # the replica has caught up too

    [line] = wait_for(restored, what="the order's lines back in the cart, with what is left")
    assert line["quantity"] == 3 and "part of it was out of stock" in line["notice"]


def test_checking_out_again_at_once_makes_a_second_order_with_its_own_lines(shop, new_product):
    product = new_product(stock=10, price="4.00")
    customer = shop.customer()
    method = customer.card(VISA_OK)
    customer.add_to_cart(product["id"], 2)

    first = customer.checkout(method, key="first-key")
    customer.add_to_cart(product["id"], 1)  # the same product, before the first order is placed
    second = customer.checkout(method)
    retried = customer.checkout(method, key="first-key")

    assert (first.status_code, second.status_code, retried.status_code) == (202, 202, 202), (first.text, second.text)
    assert retried.json() == first.json()
    orders = [customer.order_when(r.json()["order_id"], {"confirmed", "cancelled"}) for r in (first, second)]
    assert [o["status"] for o in orders] == ["confirmed", "confirmed"]
    assert [[(line["product_id"], line["quantity"]) for line in o["lines"]] for o in orders] == [
        [(product["id"], 2)], [(product["id"], 1)],
    ]
    assert [Decimal(o["total"]) for o in orders] == [Decimal("8.00"), Decimal("4.00")]
    assert customer.get("/api/orders/")["count"] == 2
    assert customer.get("/api/cart/")["lines"] == []
    wait_for(lambda: available(shop, product["id"]) == 7, what="the stock of both orders to be taken")


def test_bad_card_numbers_are_refused_before_any_order_exists(shop):
    customer = shop.customer()
    response = customer.call("POST", "/api/payments/methods/",
                              json={"card_number": "4242424242424241", "exp_month": 12, "exp_year": 2031, "cvc": "123"})
    assert response.status_code == 400
    assert "4242424242424241" not in response.text
    assert customer.get("/api/orders/")["count"] == 0
