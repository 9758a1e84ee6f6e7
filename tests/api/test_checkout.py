from datetime import date
from decimal import Decimal

import pytest

from accounts.models import User
from accounts.services import address_create
from cart import services as cart_services
from cart.models import OutboxMessage, ProductReplica
from payments.services import payment_method_create
from shopsite.testing import ADDRESS, an_address, recorded

from .conftest import CUSTOMER, OTHER_CUSTOMER, ApiUser, assert_error, assert_unauthenticated, client_for

pytestmark = pytest.mark.django_db(databases=["default", "cart", "payments"])

CHECKOUT = "/api/cart/checkout/"


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
    assert (message["order_id"], message["shipping_address"]) == (first.json()["order_id"], {**ADDRESS, "line2": ""})


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


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"country": "XX"}, "country", "Unknown country code “XX”: use an ISO 3166-1 alpha-2 code such as DE or US."),
        ({"country": "USA"}, "country", "Unknown country code “USA”: use an ISO 3166-1 alpha-2 code such as DE or US."),
        ({"postal_code": ""}, "postal_code", "This field may not be blank."),
        ({"postal_code": "1" * 21}, "postal_code", "Ensure this field has no more than 20 characters."),
        ({"name": "   "}, "name", "This field may not be blank."),
        ({"line1": "1 Main St\nX-Injected: yes"}, "line1",
         "Must not contain control characters such as line breaks or tabs."),
        ({"city": None}, "city", "This field may not be null."),
    ],
)
def test_each_bad_field_of_the_address_is_a_400_naming_it(customer, card, filled_cart, changes, field, message):
    body = {"payment_method_id": str(card().id), "shipping_address": {**ADDRESS, **changes}}

    error = assert_error(checkout(customer, body), 400)

    assert error["extra"]["fields"] == {"shipping_address": {field: [message]}}
    assert recorded(OutboxMessage) == []


def test_a_missing_address_field_is_named_with_every_other(customer, card, filled_cart):
    body = {"payment_method_id": str(card().id), "shipping_address": {"name": "Ann", "country": "xx"}}

    error = assert_error(checkout(customer, body), 400)

    assert set(error["extra"]["fields"]["shipping_address"]) == {"line1", "city", "postal_code", "country"}


def test_the_address_is_an_object_not_a_string(customer, card, filled_cart):
    body = {"payment_method_id": str(card().id), "shipping_address": "1 Main St, Springfield"}

    error = assert_error(checkout(customer, body), 400)

    assert list(error["extra"]["fields"]) == ["shipping_address"]
    assert recorded(OutboxMessage) == []


def test_a_lower_case_country_code_is_taken_upper_case(customer, card, filled_cart):
    body = {"payment_method_id": str(card().id), "shipping_address": {**ADDRESS, "country": " de "}}

    assert checkout(customer, body).status_code == 202
    [message] = recorded(OutboxMessage, "cart.checked_out")
    assert message["shipping_address"]["country"] == "DE"


@pytest.fixture
def shopper_with_an_address_book(card):
    """A customer with a real account, two saved addresses and a filled cart."""
    user = User.objects.create_user(email="book@example.com", password="a-long-password", name="Booker")
    home = address_create(user_id=user.id, address=an_address(line1="1 Home Rd"))
    work = address_create(user_id=user.id, address=an_address(line1="2 Work Ave", city="Capital City"))
    ProductReplica.objects.create(
        product_id=1, sku="MUG", name="Mug", price=Decimal("9.50"), available=5, is_active=True, version=1
    )
    cart_services.cart_item_add(user_id=user.id, product_id=1, quantity=1)
    return client_for(ApiUser(user.id)), card(ApiUser(user.id)), home, work


def test_checkout_with_a_saved_address_ships_a_copy_of_it(shopper_with_an_address_book):
    client, method, home, work = shopper_with_an_address_book
    body = {"payment_method_id": str(method.id), "shipping_address_id": str(work.id)}

    assert checkout(client, body).status_code == 202

    [message] = recorded(OutboxMessage, "cart.checked_out")
    assert message["shipping_address"] == {**ADDRESS, "line1": "2 Work Ave", "city": "Capital City", "line2": ""}


def test_checkout_with_someone_elses_saved_address_is_a_404(shopper_with_an_address_book):
    client, method, home, work = shopper_with_an_address_book
    stranger = User.objects.create_user(email="other@example.com", password="a-long-password", name="Other")
    theirs = address_create(user_id=stranger.id, address=an_address(line1="9 Secret Rd"))

    response = checkout(client, {"payment_method_id": str(method.id), "shipping_address_id": str(theirs.id)})

    assert assert_error(response, 404)["message"] == "Unknown address"
    assert recorded(OutboxMessage) == []


@pytest.mark.parametrize(
    ("address", "fields"),
    [
        ({}, {"shipping_address"}),
        ({"shipping_address": ADDRESS, "shipping_address_id": "0c8e2a52-68c3-4a5f-9a47-d0c8e2a5268c"},
         {"shipping_address", "shipping_address_id"}),
        ({"shipping_address_id": "home"}, {"shipping_address_id"}),
    ],
)
def test_checkout_takes_exactly_one_address(customer, card, filled_cart, address, fields):
    error = assert_error(checkout(customer, {"payment_method_id": str(card().id), **address}), 400)

    assert set(error["extra"]["fields"]) == fields
    assert recorded(OutboxMessage) == []


def test_checkout_of_an_empty_cart_is_refused(customer, card):
    assert_error(checkout(customer, {"payment_method_id": str(card().id), "shipping_address": ADDRESS}), 400)
    assert recorded(OutboxMessage) == []


def test_checkout_with_someone_elses_card_is_a_404(customer, card, filled_cart):
    response = checkout(customer, {"payment_method_id": str(card(OTHER_CUSTOMER).id), "shipping_address": ADDRESS})

    assert assert_error(response, 404)["message"] == "Unknown payment method"
    assert recorded(OutboxMessage) == []


def test_checkout_needs_a_signed_in_user(anonymous, card):
    assert_unauthenticated(checkout(anonymous, {"payment_method_id": str(card().id), "shipping_address": ADDRESS}))
