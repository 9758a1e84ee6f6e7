"""Money and quantity bounds, end to end: whatever price and quantity the API accepts, the order it makes
reaches a final state, and every page and list that shows it answers 200.

Before one set of limits (``shopsite.limits``), a product priced 9,999,999,999.99 bought twice made a total
the orders service could not store: the order stayed pending, its stock reserved, and the order pages of that
customer and of all staff answered 500. Free products made orders that waited for ever for a charge of zero.
The services run in this process (``deliver_everything``); each message still goes through its JSON envelope
and its contract, as on the real bus.
"""

from __future__ import annotations

import itertools
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts import services as account_services
from accounts.models import User
from orders.models import Order
from payments import services as payment_services
from payments.models import Charge
from shopsite.limits import MAX_LINES, MAX_ORDER_TOTAL, MAX_PRICE, MAX_QUANTITY
from shopsite.testing import ADDRESS, deliver_everything

pytestmark = pytest.mark.django_db(databases="__all__")

FINAL = {Order.Status.CONFIRMED, Order.Status.CANCELLED}
PASSWORD = "a-long-test-password"
SKUS = (f"BOUND-{n}" for n in itertools.count())

PRICES = st.one_of(
    st.sampled_from([Decimal("0.00"), Decimal("0.01"), MAX_PRICE, MAX_PRICE + Decimal("0.01"),
                     Decimal("9999999999.99"), Decimal("99999999999.99")]),
    st.decimals(min_value=0, max_value=Decimal("100000000000"), places=2, allow_nan=False, allow_infinity=False),
)
QUANTITIES = st.one_of(
    st.sampled_from([1, 2, MAX_QUANTITY, MAX_QUANTITY + 1]),
    st.integers(min_value=-5, max_value=2**40),
)

PROPERTY = settings(
    max_examples=25,
    deadline=timedelta(seconds=10),
    database=None,  # no .hypothesis folder in the work tree
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


class Shop:
    """A staff member and a customer with a card, signed in as browsers are."""

    def __init__(self):
        staff = account_services.user_register(
            email="boss@example.com", password=PASSWORD, name="Boss", role=User.Role.STAFF, is_staff=True,
            is_superuser=True,
        )
        self.customer = account_services.user_register(email="cleo@example.com", password=PASSWORD, name="Cleo")
        self.card = payment_services.payment_method_create(
            user_id=self.customer.id, card_number="4242424242424242", exp_month=12,
            exp_year=timezone.now().year + 2, cvc="123",
        )
        deliver_everything()  # the catalog learns who is staff
        self.staff, self.shopper = Client(), Client()
        self.staff.force_login(staff)
        self.shopper.force_login(self.customer)

    def product(self, price: Decimal) -> int | None:
        """A product at ``price`` if the catalog takes it (then the cart has heard of it), else None."""
        answer = self.staff.post("/api/catalog/products/", {"sku": next(SKUS), "name": "Thing", "price": str(price),
                                                            "stock": 10_000}, content_type="application/json")
        assert answer.status_code == (201 if price <= MAX_PRICE else 400), answer.content
        deliver_everything()
        return answer.json()["id"] if answer.status_code == 201 else None

    def add(self, product_id: int, quantity: int) -> bool:
        answer = self.shopper.post("/api/cart/items/", {"product_id": product_id, "quantity": quantity},
                                   content_type="application/json")
        assert answer.status_code < 500, answer.content
        assert (answer.status_code < 300) == (1 <= quantity <= MAX_QUANTITY), answer.content
        return answer.status_code < 300

    def check_out(self) -> str:
        answer = self.shopper.post(
            "/api/cart/checkout/", {"payment_method_id": str(self.card.id), "shipping_address": ADDRESS},
            content_type="application/json", HTTP_IDEMPOTENCY_KEY=next(SKUS),
        )
        assert answer.status_code == 202, answer.content
        deliver_everything()
        return answer.json()["order_id"]

    def assert_every_page_answers(self, order_id: str) -> None:
        for client, path in [
            (self.shopper, "/api/orders/"), (self.shopper, f"/api/orders/{order_id}/"),
            (self.shopper, "/orders/"), (self.shopper, f"/orders/{order_id}/"),
            (self.shopper, "/api/accounts/me/"), (self.shopper, "/accounts/profile/"), (self.shopper, "/cart/"),
            (self.staff, "/api/orders/all/"), (self.staff, "/admin/orders/order/"),
            (self.staff, f"/admin/orders/order/{order_id}/change/"), (self.staff, "/admin/orders/orderline/"),
            (self.staff, "/admin/cart/checkout/"), (self.staff, "/admin/payments/charge/"),
            (self.staff, "/admin/accounts/customerorder/"), (self.staff, "/admin/catalog/product/"),
        ]:
            assert client.get(path).status_code == 200, path


@pytest.fixture
def shop() -> Shop:
    return Shop()


@PROPERTY
@given(cart=st.lists(st.tuples(PRICES, QUANTITIES), min_size=1, max_size=3))
def test_every_checkout_the_shop_accepts_ends_confirmed_or_cancelled_and_every_page_answers(shop, cart):
    added = [
        (price, quantity) for price, quantity in cart
        if (product_id := shop.product(price)) is not None and shop.add(product_id, quantity)
    ]
    if not added:
        return
    order_id = shop.check_out()

    order = Order.objects.get(pk=order_id)
    assert order.status in FINAL
    assert order.total == sum(price * quantity for price, quantity in added)
    assert order.status == Order.Status.CONFIRMED  # the stock was there and the card pays
    shop.assert_every_page_answers(order_id)


def test_the_biggest_order_the_limits_allow_is_placed_paid_and_shown(shop):
    for _ in range(MAX_LINES):
        assert shop.add(shop.product(MAX_PRICE), MAX_QUANTITY)

    order_id = shop.check_out()

    order = Order.objects.get(pk=order_id)
    assert (order.status, order.total) == (Order.Status.CONFIRMED, MAX_ORDER_TOTAL)
    shop.assert_every_page_answers(order_id)


def test_a_cart_holds_a_bounded_number_of_products(shop):
    for _ in range(MAX_LINES):
        assert shop.add(shop.product(Decimal("1.00")), 1)

    answer = shop.shopper.post("/api/cart/items/", {"product_id": shop.product(Decimal("1.00")), "quantity": 1},
                               content_type="application/json")

    assert answer.status_code == 400
    assert f"at most {MAX_LINES} different products" in answer.json()["message"]


def test_a_free_order_is_confirmed_without_a_charge(shop):
    shop.add(shop.product(Decimal("0.00")), 3)

    order_id = shop.check_out()

    order = Order.objects.get(pk=order_id)
    assert (order.status, order.total) == (Order.Status.CONFIRMED, Decimal("0.00"))
    assert not Charge.objects.filter(order_id=order_id).exists()
    shop.assert_every_page_answers(order_id)


def test_a_free_order_cancelled_after_confirmation_asks_for_no_refund(shop):
    shop.add(shop.product(Decimal("0.00")), 1)
    order_id = shop.check_out()

    answer = shop.shopper.post(f"/api/orders/{order_id}/cancel/")
    deliver_everything()

    assert answer.status_code == 202, answer.content
    assert Order.objects.get(pk=order_id).status == Order.Status.CANCELLED
    assert "refund_requested" not in Order.objects.get(pk=order_id).events.values_list("kind", flat=True)
