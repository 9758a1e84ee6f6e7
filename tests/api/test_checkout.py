from datetime import date
from decimal import Decimal

import pytest

from cart import services as cart_services
from cart.models import OutboxMessage, ProductReplica
from payments.services import payment_method_create
from shopsite.testing import recorded

from .conftest import CUSTOMER, OTHER_CUSTOMER, assert_error, assert_unauthenticated

pytestmark = pytest.mark.django_db(databases=["cart", "payments"])

CHECKOUT = "/api/cart/checkout/"
ADDRESS = "1 Test Street, Testville"


@pytest.fixture
def card():
    def make(user=CUSTOMER):
        return payment_method_create(
            user_id=user.id, card_number="4242424242424242", exp_month=1, exp_year=date.today().year + 1, cvc="123"
        )

    return make


@pytest.fixture
def filled_cart():
    ProductReplica.objects.create(
        product_id=1, sku="MUG", name="Mug", price=Decimal("9.50"), available=5, is_active=True, version=1
    )
    cart_services.cart_item_add(user_id=CUSTOMER.id, product_id=1, quantity=2)


def checkout(client, body, key="key-1"):
    headers = {} if key is None else {"HTTP_IDEMPOTENCY_KEY": key}
    return client.post(CHECKOUT, body, format="json", **headers)


def test_checkout_is_accepted_once_per_key(customer, card, filled_cart):
    body = {"payment_method_id": str(card().id), "shipping_address": ADDRESS}

    first, again = checkout(customer, body), checkout(customer, body)

    assert first.status_code == again.status_code == 202
    assert first.json() == again.json()
    assert set(first.json()) == {"order_id", "checkout_id", "total"}
    assert first.json()["total"] == "19.00"
    [message] = recorded(OutboxMessage, "cart.checked_out")
    assert (message["order_id"], message["shipping_address"]) == (first.json()["order_id"], ADDRESS)


def test_a_checkout_empties_the_cart(customer, card, filled_cart):
    checkout(customer, {"payment_method_id": str(card().id), "shipping_address": ADDRESS})

    assert customer.get("/api/cart/").json()["lines"] == []


def test_a_second_tab_finds_the_cart_already_checked_out(customer, card, filled_cart):
    body = {"payment_method_id": str(card().id), "shipping_address": ADDRESS}
    checkout(customer, body, key="tab-1")

    second = assert_error(checkout(customer, body, key="tab-2"), 400)

    assert second["message"] == "Your cart is empty"
    assert len(recorded(OutboxMessage, "cart.checked_out")) == 1


def test_a_checkout_right_after_another_is_another_order(customer, card, filled_cart):
    body = {"payment_method_id": str(card().id), "shipping_address": ADDRESS}
    first = checkout(customer, body, key="first")
    cart_services.cart_item_add(user_id=CUSTOMER.id, product_id=1, quantity=1)

    second = checkout(customer, body, key="second")

    assert first.status_code == second.status_code == 202
    assert first.json()["order_id"] != second.json()["order_id"]
    assert (first.json()["total"], second.json()["total"]) == ("19.00", "9.50")
    assert [m["order_id"] for m in recorded(OutboxMessage, "cart.checked_out")] == [
        first.json()["order_id"], second.json()["order_id"],
    ]


@pytest.mark.parametrize("key", [None, "", "k" * 101])
def test_checkout_needs_an_idempotency_key(customer, card, filled_cart, key):
    body = assert_error(checkout(customer, {"payment_method_id": str(card().id), "shipping_address": ADDRESS}, key), 400)

    assert list(body["extra"]["fields"]) == ["Idempotency-Key"]
    assert recorded(OutboxMessage) == []


def test_checkout_refuses_invalid_fields(customer, filled_cart):
    body = assert_error(checkout(customer, {"payment_method_id": "card-1"}), 400)

    assert set(body["extra"]["fields"]) == {"payment_method_id", "shipping_address"}


def test_checkout_of_an_empty_cart_is_refused(customer, card):
    assert_error(checkout(customer, {"payment_method_id": str(card().id), "shipping_address": ADDRESS}), 400)
    assert recorded(OutboxMessage) == []


def test_checkout_with_someone_elses_card_is_a_404(customer, card, filled_cart):
    response = checkout(customer, {"payment_method_id": str(card(OTHER_CUSTOMER).id), "shipping_address": ADDRESS})

    assert assert_error(response, 404)["message"] == "Unknown payment method"
    assert recorded(OutboxMessage) == []


def test_checkout_needs_a_signed_in_user(anonymous, card):
    assert_unauthenticated(checkout(anonymous, {"payment_method_id": str(card().id), "shipping_address": ADDRESS}))
