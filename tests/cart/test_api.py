import pytest
from rest_framework.test import APIClient

from cart import services
from cart.models import CartLine

pytestmark = pytest.mark.django_db(databases=["cart"])

CART = "/api/cart/"
ITEMS = "/api/cart/items/"


@pytest.fixture
def client(api_user) -> APIClient:
    client = APIClient()
    client.force_authenticate(api_user(id=7))
    return client


def test_an_empty_cart(client):
    response = client.get(CART)

    assert response.status_code == 200
    assert response.json() == {"lines": [], "total": "0.00", "count": 0}


def test_add_an_item(client, make_product):
    mug = make_product(sku="MUG", name="Mug", price="9.50", available=5)

    response = client.post(ITEMS, {"product_id": mug.product_id, "quantity": 2}, format="json")

    assert response.status_code == 201
    assert response.json() == {
        "lines": [
            {
                "product_id": mug.product_id, "sku": "MUG", "name": "Mug", "unit_price": "9.50", "quantity": 2,
                "line_total": "19.00", "available": 5, "notice": "", "image_url": "", "thumbnail_url": "",
            }
        ],
        "total": "19.00",
        "count": 2,
    }


def test_quantity_defaults_to_one(client, make_product):
    mug = make_product()

    client.post(ITEMS, {"product_id": mug.product_id}, format="json")

    assert CartLine.objects.get().quantity == 1


@pytest.mark.parametrize(
    "body, status, message",
    [
        ({"product_id": 404}, 404, "Unknown product"),
        ({"product_id": 1, "quantity": 6}, 400, "Only 5 left of Mug."),
        ({"product_id": 1, "quantity": 0}, 400, "Validation error"),
        ({"product_id": "mug"}, 400, "Validation error"),
        ({}, 400, "Validation error"),
    ],
)
def test_refused_additions_say_why(client, make_product, body, status, message):
    make_product(product_id=1, name="Mug", available=5)

    response = client.post(ITEMS, body, format="json")

    assert response.status_code == status
    assert response.json()["message"] == message
    assert not CartLine.objects.exists()


def test_change_the_quantity(client, make_product):
    mug = make_product(available=5)
    services.cart_item_add(user_id=7, product_id=mug.product_id)

    response = client.patch(f"{ITEMS}{mug.product_id}/", {"quantity": 4}, format="json")

    assert response.status_code == 200
    assert response.json()["count"] == 4


def test_change_to_zero_removes_and_bad_quantities_are_refused(client, make_product):
    mug = make_product(available=5)
    services.cart_item_add(user_id=7, product_id=mug.product_id)

    assert client.patch(f"{ITEMS}{mug.product_id}/", {"quantity": -1}, format="json").status_code == 400
    assert client.patch(f"{ITEMS}{mug.product_id}/", {}, format="json").status_code == 400
    assert client.patch(f"{ITEMS}{mug.product_id}/", {"quantity": 0}, format="json").json()["lines"] == []


def test_remove_an_item(client, make_product):
    mug = make_product()
    services.cart_item_add(user_id=7, product_id=mug.product_id)

    assert client.delete(f"{ITEMS}{mug.product_id}/").status_code == 204
    missing = client.delete(f"{ITEMS}{mug.product_id}/")

    assert missing.status_code == 404
    assert missing.json()["message"] == "This product is not in your cart."


def test_a_customer_sees_and_changes_only_their_own_cart(client, make_product):
    mug = make_product()
    services.cart_item_add(user_id=8, product_id=mug.product_id, quantity=2)

    assert client.get(CART).json()["lines"] == []
    assert client.patch(f"{ITEMS}{mug.product_id}/", {"quantity": 1}, format="json").status_code == 404
    assert client.delete(f"{ITEMS}{mug.product_id}/").status_code == 404
    assert CartLine.objects.get().quantity == 2


@pytest.mark.parametrize("method, path", [("get", CART), ("post", ITEMS), ("patch", f"{ITEMS}1/"), ("delete", f"{ITEMS}1/")])
def test_the_cart_needs_a_signed_in_customer(method, path):
    response = getattr(APIClient(), method)(path, {"product_id": 1, "quantity": 1}, format="json")

    assert response.status_code in (401, 403)

