"""The cart across a whole checkout, with the six services in this process (``deliver_everything``): each
message still goes through its JSON envelope and its contract, as on the real bus.

The cart empties at checkout, so a second checkout may follow at once; an order cancelled for stock or
payment gives its lines back to the cart with a notice; one cancelled on request does not.
"""

from __future__ import annotations

import itertools
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from accounts import services as account_services
from catalog import services as catalog_services
from orders.models import Order
from payments import services as payment_services
from shopsite.ids import short
from shopsite.testing import ADDRESS, deliver_everything

pytestmark = pytest.mark.django_db(databases="__all__")

PAYS, DECLINED = "4242424242424242", "4000000000000002"
KEYS = (f"key-{n}" for n in itertools.count())


class Customer:
    def __init__(self) -> None:
        user = account_services.user_register(email="cleo@example.com", password="a-long-test-password", name="Cleo")
        self.id = user.id
        self.browser = Client()
        self.browser.force_login(user)

    def card(self, number: str) -> str:
        return str(payment_services.payment_method_create(
            user_id=self.id, card_number=number, exp_month=12, exp_year=timezone.now().year + 2, cvc="123",
        ).id)

    def add(self, product_id: int, quantity: int) -> None:
        answer = self.browser.post("/api/cart/items/", {"product_id": product_id, "quantity": quantity},
                                   content_type="application/json")
        assert answer.status_code == 201, answer.content

    def check_out(self, card: str, key: str | None = None):
        return self.browser.post("/api/cart/checkout/", {"payment_method_id": card, "shipping_address": ADDRESS},
                                 content_type="application/json", HTTP_IDEMPOTENCY_KEY=key or next(KEYS))

    def cart(self) -> dict:
        answer = self.browser.get("/api/cart/")
        assert answer.status_code == 200, answer.content
        return answer.json()


@pytest.fixture
def customer() -> Customer:
    return Customer()


@pytest.fixture
def product():
    def make(stock: int = 10, price: str = "12.50") -> int:
        made = catalog_services.product_create(sku=f"FLOW-{next(KEYS)}", name="Lamp", price=Decimal(price),
                                               stock=stock)
        deliver_everything()  # the cart hears of it
        return made.id

    return make


def order(order_id: str) -> Order:
    return Order.objects.get(pk=order_id)


def test_two_checkouts_in_a_row_make_two_orders_each_with_its_own_lines(customer, product):
    lamp, card = product(), customer.card(PAYS)
    customer.add(lamp, 2)
    first = customer.check_out(card)
    assert customer.cart()["lines"] == []
    customer.add(lamp, 1)  # before the first order is even placed
    second = customer.check_out(card)

    assert first.status_code == second.status_code == 202, (first.content, second.content)
    deliver_everything()
    orders = [order(answer.json()["order_id"]) for answer in (first, second)]
    assert [o.status for o in orders] == [Order.Status.CONFIRMED] * 2
    assert [list(o.lines.values_list("product_id", "quantity")) for o in orders] == [[(lamp, 2)], [(lamp, 1)]]
    assert customer.cart()["lines"] == []


def test_a_declined_order_comes_back_into_the_cart_with_a_notice(customer, product):
    lamp = product()
    customer.add(lamp, 3)
    answer = customer.check_out(customer.card(DECLINED))
    customer.add(lamp, 1)  # added while the order was on its way: kept, and merged

    deliver_everything()

    order_id = answer.json()["order_id"]
    assert (order(order_id).status, order(order_id).cancel_reason) == ("cancelled", "payment_declined")
    [line] = customer.cart()["lines"]
    assert (line["product_id"], line["quantity"]) == (lamp, 4)
    assert line["notice"] == (f"Lamp is back in your cart: your order #{short(order_id)} was cancelled because "
                              "the payment was declined.")
    page = customer.browser.get("/cart/")
    assert 'id="cart-notices"' in page.text and f"your order #{short(order_id)} was cancelled" in page.text


def test_an_order_cancelled_for_stock_comes_back_and_the_cart_shows_what_is_left(customer, product):
    lamp = product(stock=4)
    customer.add(lamp, 3)
    answer = customer.check_out(customer.card(PAYS))
    catalog_services.stock_adjust(product_id=lamp, quantity_delta=-2)  # sold elsewhere meanwhile

    deliver_everything()

    assert order(answer.json()["order_id"]).cancel_reason == "out_of_stock"
    [line] = customer.cart()["lines"]
    assert (line["quantity"], line["available"]) == (3, 2)
    assert "part of it was out of stock" in line["notice"]


def test_the_same_key_returns_the_first_checkout_though_the_cart_is_empty(customer, product):
    card = customer.card(PAYS)
    customer.add(product(), 1)

    first, again = customer.check_out(card, key="once"), customer.check_out(card, key="once")
    deliver_everything()

    assert first.status_code == again.status_code == 202
    assert again.json() == first.json()
    assert Order.objects.count() == 1


def test_an_order_the_customer_cancels_stays_out_of_the_cart(customer, product):
    customer.add(product(), 1)
    order_id = customer.check_out(customer.card(PAYS)).json()["order_id"]
    deliver_everything()

    assert customer.browser.post(f"/api/orders/{order_id}/cancel/").status_code == 202
    deliver_everything()

    assert order(order_id).cancel_reason == "customer_request"
    assert customer.cart()["lines"] == []


def test_an_empty_cart_is_a_400_with_a_message(customer):
    answer = customer.check_out(customer.card(PAYS))

    assert answer.status_code == 400
    assert answer.json() == {"message": "Your cart is empty", "extra": {}}
