from decimal import Decimal

import pytest

from cart import services
from cart.models import CartLine, ProductReplica

from .conftest import CUSTOMER, OTHER_CUSTOMER, assert_error, assert_unauthenticated

pytestmark = pytest.mark.django_db(databases=["cart"])

CART, ITEMS = "/api/cart/", "/api/cart/items/"


@pytest.fixture
def mug() -> ProductReplica:
    """The mug as the catalog's messages described it to the cart."""
    return ProductReplica.objects.create(
        product_id=1, sku="MUG", name="Mug", price=Decimal("9.50"), available=5, is_active=True, version=1
    )


def quantities() -> dict[int, int]:
    return {line.cart.user_id: line.quantity for line in CartLine.objects.select_related("cart")}


def test_cart_shows_only_the_users_own_lines(customer, mug):
    services.cart_item_add(user_id=CUSTOMER.id, product_id=mug.product_id, quantity=2)
    services.cart_item_add(user_id=OTHER_CUSTOMER.id, product_id=mug.product_id, quantity=1)

    response = customer.get(CART)

    assert response.status_code == 200
    assert (response.json()["count"], response.json()["total"]) == (2, "19.00")
    assert [line["quantity"] for line in response.json()["lines"]] == [2]


def test_cart_needs_a_signed_in_user(anonymous):
    assert_unauthenticated(anonymous.get(CART))


def test_add(customer, mug):
    response = customer.post(ITEMS, {"product_id": mug.product_id, "quantity": 3}, format="json")

    assert response.status_code == 201
    assert response.json()["lines"][0]["line_total"] == "28.50"
    assert quantities() == {CUSTOMER.id: 3}


@pytest.mark.parametrize("body, field", [({"quantity": 1}, "product_id"), ({"product_id": 1, "quantity": 0}, "quantity")])
def test_add_refuses_invalid_fields(customer, mug, body, field):
    assert list(assert_error(customer.post(ITEMS, body, format="json"), 400)["extra"]["fields"]) == [field]
    assert quantities() == {}


def test_add_refuses_more_than_is_left(customer, mug):
    assert assert_error(customer.post(ITEMS, {"product_id": 1, "quantity": 6}, format="json"), 400)["message"] == (
        "Only 5 left of Mug."
    )


def test_add_of_an_unknown_product_is_a_404(customer):
    assert_error(customer.post(ITEMS, {"product_id": 404}, format="json"), 404)


def test_add_needs_a_signed_in_user(anonymous, mug):
    assert_unauthenticated(anonymous.post(ITEMS, {"product_id": mug.product_id}, format="json"))
    assert quantities() == {}


def test_set_quantity(customer, mug):
    services.cart_item_add(user_id=CUSTOMER.id, product_id=mug.product_id)

    response = customer.patch(f"{ITEMS}{mug.product_id}/", {"quantity": 4}, format="json")

    assert response.status_code == 200
    assert quantities() == {CUSTOMER.id: 4}


def test_set_quantity_refuses_invalid_values(customer, mug):
    services.cart_item_add(user_id=CUSTOMER.id, product_id=mug.product_id)

    assert "quantity" in assert_error(customer.patch(f"{ITEMS}1/", {"quantity": -1}, format="json"), 400)["extra"]["fields"]
    assert "quantity" in assert_error(customer.patch(f"{ITEMS}1/", {}, format="json"), 400)["extra"]["fields"]
    assert quantities() == {CUSTOMER.id: 1}


def test_set_quantity_of_a_line_in_someone_elses_cart_is_a_404(customer, mug):
    services.cart_item_add(user_id=OTHER_CUSTOMER.id, product_id=mug.product_id, quantity=2)

    assert_error(customer.patch(f"{ITEMS}{mug.product_id}/", {"quantity": 1}, format="json"), 404)
    assert quantities() == {OTHER_CUSTOMER.id: 2}


def test_set_quantity_needs_a_signed_in_user(anonymous, mug):
    assert_unauthenticated(anonymous.patch(f"{ITEMS}{mug.product_id}/", {"quantity": 1}, format="json"))


def test_remove(customer, mug):
    services.cart_item_add(user_id=CUSTOMER.id, product_id=mug.product_id)

    response = customer.delete(f"{ITEMS}{mug.product_id}/")

    assert (response.status_code, response.content) == (204, b"")
    assert quantities() == {}


def test_remove_from_someone_elses_cart_is_a_404(customer, mug):
    services.cart_item_add(user_id=OTHER_CUSTOMER.id, product_id=mug.product_id)

    assert assert_error(customer.delete(f"{ITEMS}{mug.product_id}/"), 404)["message"] == (
        "This product is not in your cart."
    )
    assert quantities() == {OTHER_CUSTOMER.id: 1}


def test_remove_needs_a_signed_in_user(anonymous, mug):
    assert_unauthenticated(anonymous.delete(f"{ITEMS}{mug.product_id}/"))
