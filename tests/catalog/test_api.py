from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from catalog.models import OutboxMessage, Product
from shopsite.testing import recorded

pytestmark = pytest.mark.django_db(databases=["default", "catalog"])

PRODUCTS = "/api/catalog/products/"


@pytest.fixture
def client() -> APIClient:
    return APIClient()


def as_user(client: APIClient, user) -> APIClient:
    client.force_authenticate(user)
    return client


# --- browsing ---------------------------------------------------------------


def test_anyone_lists_active_products_page_by_page(client, make_product):
    mug = make_product(name="Mug", sku="MUG", price="9.50", stock=4, category="kitchen", description="Big")
    make_product(name="Hidden", is_active=False)

    response = client.get(PRODUCTS)

    assert response.status_code == 200
    assert response.json() == {
        "count": 1,
        "next": None,
        "previous": None,
        "results": [
            {
                "id": mug.id, "sku": "MUG", "name": "Mug", "description": "Big", "category": "kitchen",
                "price": "9.50", "available": 4, "is_active": True, "image_url": "", "thumbnail_url": "",
            }
        ],
    }


def test_list_is_paginated(client, make_product):
    for _ in range(25):
        make_product()

    first = client.get(PRODUCTS).json()
    second = client.get(PRODUCTS, {"page": 2}).json()

    assert first["count"] == 25
    assert len(first["results"]) == 20 and len(second["results"]) == 5
    assert first["next"].endswith("page=2")


def test_list_filters_and_orders(client, make_product):
    make_product(name="Blue mug", sku="B-1", price="9.00", category="kitchen")
    make_product(name="Red mug", sku="R-1", price="15.00", category="kitchen")
    make_product(name="Tee", sku="T-1", price="20.00", category="clothes")

    def names(**params):
        return [p["name"] for p in client.get(PRODUCTS, params).json()["results"]]

    assert names(search="MUG", ordering="-price") == ["Red mug", "Blue mug"]
    assert names(search="t-1") == ["Tee"]
    assert names(category="clothes") == ["Tee"]
    assert names(min_price="10", max_price="16") == ["Red mug"]
    assert names(ordering="-name") == ["Tee", "Red mug", "Blue mug"]


@pytest.mark.parametrize(
    "params",
    [{"ordering": "stock_on_hand"}, {"min_price": "cheap"}, {"max_price": "-1"}, {"min_price": "5", "max_price": "1"}],
)
def test_bad_list_parameters_are_a_400_with_a_message(client, params):
    response = client.get(PRODUCTS, params)

    assert response.status_code == 400
    assert response.json()["message"]


def test_product_page_for_anyone_but_not_for_an_inactive_product(client, make_product):
    product, hidden = make_product(price="3.00"), make_product(is_active=False)

    assert client.get(f"{PRODUCTS}{product.id}/").json()["price"] == "3.00"
    assert client.get(f"{PRODUCTS}{hidden.id}/").status_code == 404
    assert client.get(f"{PRODUCTS}999/").status_code == 404


# --- staff only ---------------------------------------------------------------

NEW_PRODUCT = {"sku": "NEW", "name": "New", "price": "12.50", "stock": 3, "category": "misc"}


def test_staff_create_a_product_that_is_published(client, staff_user):
    response = as_user(client, staff_user).post(PRODUCTS, NEW_PRODUCT, format="json")

    assert response.status_code == 201
    body = response.json()
    assert (body["sku"], body["price"], body["available"], body["is_active"]) == ("NEW", "12.50", 3, True)
    assert Product.objects.get(sku="NEW").price == Decimal("12.50")
    assert [m["product_id"] for m in recorded(OutboxMessage, "product.published")] == [body["id"]]


@pytest.mark.parametrize(
    "who",
    [
        {"is_staff": False},
        {},
        {"codenames": ["change_product", "adjust_stock"]},
        {"codenames": ["add_product"], "is_active": False},
        {"codenames": ["add_product"], "is_staff": False},
    ],
    ids=["customer", "staff without permissions", "staff with other permissions", "inactive", "not staff"],
)
def test_others_may_not_create_products(client, make_user, who):
    flags = {key: value for key, value in who.items() if key != "codenames"}
    user = make_user(*who.get("codenames", []), **flags)

    response = as_user(client, user).post(PRODUCTS, NEW_PRODUCT, format="json")

    assert response.status_code == 403
    assert response.json()["message"] == "Only staff with the permission catalog.add_product may do this."
    assert not Product.objects.exists()


def test_anonymous_visitors_may_not_create_products(client):
    response = client.post(PRODUCTS, NEW_PRODUCT, format="json")

    assert response.status_code in (401, 403)
    assert not Product.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        {**NEW_PRODUCT, "price": "-1"},
        {**NEW_PRODUCT, "price": "1.999"},
        {**NEW_PRODUCT, "stock": -2},
        {k: v for k, v in NEW_PRODUCT.items() if k != "sku"},
    ],
)
def test_invalid_products_are_a_400(client, staff_user, body):
    response = as_user(client, staff_user).post(PRODUCTS, body, format="json")

    assert response.status_code == 400
    assert response.json()["message"]
    assert not Product.objects.exists()


def test_a_taken_sku_is_a_409(client, staff_user, make_product):
    make_product(sku="NEW")

    response = as_user(client, staff_user).post(PRODUCTS, NEW_PRODUCT, format="json")

    assert response.status_code == 409
    assert "NEW" in response.json()["message"]


def test_staff_edit_a_product(client, staff_user, make_product):
    product = make_product(price="5.00")

    response = as_user(client, staff_user).patch(f"{PRODUCTS}{product.id}/", {"price": "6.00"}, format="json")

    assert response.status_code == 200
    assert response.json()["price"] == "6.00"
    product.refresh_from_db()
    assert (product.price, product.version) == (Decimal("6.00"), 2)


def test_staff_may_bring_back_an_inactive_product(client, staff_user, make_product):
    product = make_product(is_active=False, stock=2)

    response = as_user(client, staff_user).patch(f"{PRODUCTS}{product.id}/", {"is_active": True}, format="json")

    assert response.status_code == 200
    assert response.json()["available"] == 2


def test_edits_need_staff_a_known_product_and_a_change(client, staff_user, customer_user, make_product):
    product = make_product()

    assert as_user(client, customer_user).patch(f"{PRODUCTS}{product.id}/", {"name": "X"}, format="json").status_code == 403
    staff = as_user(APIClient(), staff_user)
    assert staff.patch(f"{PRODUCTS}999/", {"name": "X"}, format="json").status_code == 404
    assert staff.patch(f"{PRODUCTS}{product.id}/", {}, format="json").status_code == 400
    product.refresh_from_db()
    assert product.version == 1


def test_staff_adjust_stock(client, staff_user, make_product):
    product = make_product(stock=2)
    staff = as_user(client, staff_user)

    added = staff.post(f"{PRODUCTS}{product.id}/stock/", {"quantity_delta": 5}, format="json")
    too_many = staff.post(f"{PRODUCTS}{product.id}/stock/", {"quantity_delta": -8}, format="json")

    assert (added.status_code, added.json()["available"]) == (200, 7)
    assert too_many.status_code == 400
    assert "only 7 on hand" in too_many.json()["message"]
    assert staff.post(f"{PRODUCTS}999/stock/", {"quantity_delta": 1}, format="json").status_code == 404
    assert staff.post(f"{PRODUCTS}{product.id}/stock/", {"quantity_delta": "lots"}, format="json").status_code == 400


def test_customers_may_not_adjust_stock(client, customer_user, make_product):
    product = make_product(stock=2)

    response = as_user(client, customer_user).post(f"{PRODUCTS}{product.id}/stock/", {"quantity_delta": 5}, format="json")

    assert response.status_code == 403
    product.refresh_from_db()
    assert product.stock_on_hand == 2
