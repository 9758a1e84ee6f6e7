"""Staff operations through the API, with every service running as its own process over RabbitMQ.

The unit tests stand in for the signed-in user; here staff is whoever the
real token belongs to, and the customer learns of each step through messages.
"""

import pytest

from tests.e2e.shop import wait_for

pytestmark = pytest.mark.e2e


def inbox_kinds(customer, order_id: str) -> set[str]:
    return {n["kind"] for n in customer.get("/api/notifications/")["results"] if n["order_id"] == order_id}


def test_staff_ship_and_deliver_a_paid_order_and_the_customer_is_told(shop, new_product, staff_token):  # noqa: F811
    customer = shop.customer()
    customer.add_to_cart(new_product(stock=3)["id"], 1)
    order_id = customer.checkout(customer.card("4242424242424242")).json()["order_id"]
    customer.order_when(order_id, {"confirmed"})

    assert customer.call("POST", f"/api/orders/{order_id}/ship/").status_code == 403
    assert [o["id"] for o in shop.call("GET", "/api/orders/all/?status=confirmed", token=staff_token).json()[
        "results"] if o["id"] == order_id] == [order_id]
    shipped = shop.call("POST", f"/api/orders/{order_id}/ship/", token=staff_token)
    assert (shipped.status_code, shipped.json()["status"]) == (200, "shipped")
    delivered = shop.call("POST", f"/api/orders/{order_id}/deliver/", token=staff_token)
    assert (delivered.status_code, delivered.json()["status"]) == (200, "delivered")

    assert customer.get(f"/api/orders/{order_id}/")["status"] == "delivered"
    wait_for(lambda: {"order_shipped", "order_delivered"} <= inbox_kinds(customer, order_id),
             what="the shipping and delivery emails in the inbox")
    unread = customer.get("/api/notifications/?unread=true")["results"]
    assert {n["kind"] for n in unread if n["order_id"] == order_id} == {
        "order_confirmed", "order_shipped", "order_delivered"
    }


def test_staff_cancel_a_paid_order_which_is_refunded(shop, new_product, staff_token):  # noqa: F811
    customer = shop.customer()
    product = new_product(stock=3)
    customer.add_to_cart(product["id"], 2)
    order_id = customer.checkout(customer.card("4242424242424242")).json()["order_id"]
    customer.order_when(order_id, {"confirmed"})

    cancelled = shop.call("POST", f"/api/orders/{order_id}/staff-cancel/", token=staff_token)

    assert (cancelled.status_code, cancelled.json()["cancel_reason"]) == (202, "staff_request")
    wait_for(lambda: customer.get("/api/payments/charges/")["results"][0]["refunded_amount"] != "0.00",
             what="the refund")
    wait_for(lambda: shop.call("GET", f"/api/catalog/products/{product['id']}/").json()["available"] == 3,
             what="the stock to be released")
