from decimal import Decimal

import pytest

from catalog.models import OutboxMessage, Product
from shopsite.testing import recorded

from .conftest import CUSTOMER, STAFF, assert_error, assert_unauthenticated, client_for

pytestmark = pytest.mark.django_db(databases=["catalog"])

PRODUCTS = "/api/catalog/products/"
NEW_PRODUCT = {"sku": "NEW", "name": "New", "price": "12.50", "stock": 3, "category": "misc"}


@pytest.fixture
def staff():
    return client_for(STAFF)


@pytest.fixture
def customer():
    return client_for(CUSTOMER)


@pytest.fixture
def product():
    return Product.objects.create(sku="MUG", name="Mug", price=Decimal("9.50"), stock_on_hand=4, category="kitchen")


def detail(product) -> str:
    return f"{PRODUCTS}{product.id}/"


# --- list -------------------------------------------------------------------------


def test_list_is_public_filtered_and_paginated(anonymous, product):
    Product.objects.create(sku="TEE", name="Tee", price=Decimal("20.00"), stock_on_hand=1, category="clothes")

    body = anonymous.get(PRODUCTS, {"category": "kitchen", "max_price": "10"}).json()

    assert set(body) == {"count", "next", "previous", "results"}
    assert [p["sku"] for p in body["results"]] == ["MUG"]
    assert body["results"][0]["available"] == 4


@pytest.mark.parametrize("params, field", [({"ordering": "stock"}, "ordering"), ({"min_price": "cheap"}, "min_price")])
def test_list_refuses_bad_filters(anonymous, params, field):
    assert field in assert_error(anonymous.get(PRODUCTS, params), 400)["extra"]["fields"]


# --- detail -----------------------------------------------------------------------


def test_detail_is_public(anonymous, product):
    response = anonymous.get(detail(product))

    assert response.status_code == 200
    assert (response.json()["id"], response.json()["price"]) == (product.id, "9.50")


def test_detail_of_an_unknown_or_withdrawn_product_is_a_404(anonymous, product):
    product.is_active = False
    product.save()

    assert_error(anonymous.get(detail(product)), 404)
    assert_error(anonymous.get(f"{PRODUCTS}999/"), 404)


# --- create (staff) ---------------------------------------------------------------


def test_staff_create(staff):
    response = staff.post(PRODUCTS, NEW_PRODUCT, format="json")

    assert response.status_code == 201
    assert (response.json()["sku"], response.json()["available"]) == ("NEW", 3)
    assert [m["sku"] for m in recorded(OutboxMessage, "product.published")] == ["NEW"]


def test_create_refuses_invalid_fields(staff):
    body = assert_error(staff.post(PRODUCTS, {**NEW_PRODUCT, "price": "-1", "stock": "many"}, format="json"), 400)

    assert set(body["extra"]["fields"]) == {"price", "stock"}
    assert not Product.objects.exists()


def test_create_needs_a_signed_in_staff_member(anonymous, customer):
    assert_unauthenticated(anonymous.post(PRODUCTS, NEW_PRODUCT, format="json"))
    assert assert_error(customer.post(PRODUCTS, NEW_PRODUCT, format="json"), 403)["message"] == (
        "Only staff with the permission catalog.add_product may do this."
    )
    assert not Product.objects.exists()


# --- edit (staff) -----------------------------------------------------------------


def test_staff_edit(staff, product):
    response = staff.patch(detail(product), {"price": "11.00", "name": "Big mug"}, format="json")

    assert response.status_code == 200
    assert (response.json()["price"], response.json()["name"]) == ("11.00", "Big mug")
    product.refresh_from_db()
    assert product.price == Decimal("11.00")


def test_edit_refuses_invalid_or_empty_changes(staff, product):
    assert "price" in assert_error(staff.patch(detail(product), {"price": "1.234"}, format="json"), 400)["extra"]["fields"]
    assert_error(staff.patch(detail(product), {}, format="json"), 400)


def test_edit_of_an_unknown_product_is_a_404(staff):
    assert_error(staff.patch(f"{PRODUCTS}999/", {"name": "X"}, format="json"), 404)


def test_edit_needs_a_signed_in_staff_member(anonymous, customer, product):
    assert_unauthenticated(anonymous.patch(detail(product), {"name": "X"}, format="json"))
    assert_error(customer.patch(detail(product), {"name": "X"}, format="json"), 403)
    product.refresh_from_db()
    assert product.name == "Mug"


# --- stock (staff) ----------------------------------------------------------------


def test_staff_adjust_stock(staff, product):
    response = staff.post(f"{detail(product)}stock/", {"quantity_delta": -3}, format="json")

    assert response.status_code == 200
    assert response.json()["available"] == 1


def test_stock_adjust_refuses_bad_deltas(staff, product):
    assert "quantity_delta" in assert_error(
        staff.post(f"{detail(product)}stock/", {"quantity_delta": "lots"}, format="json"), 400
    )["extra"]["fields"]
    assert_error(staff.post(f"{detail(product)}stock/", {"quantity_delta": 0}, format="json"), 400)
    assert_error(staff.post(f"{detail(product)}stock/", {"quantity_delta": -5}, format="json"), 400)
    product.refresh_from_db()
    assert product.stock_on_hand == 4


def test_stock_adjust_of_an_unknown_product_is_a_404(staff):
    assert_error(staff.post(f"{PRODUCTS}999/stock/", {"quantity_delta": 1}, format="json"), 404)


def test_stock_adjust_needs_a_signed_in_staff_member(anonymous, customer, product):
    assert_unauthenticated(anonymous.post(f"{detail(product)}stock/", {"quantity_delta": 1}, format="json"))
    assert_error(customer.post(f"{detail(product)}stock/", {"quantity_delta": 1}, format="json"), 403)
    product.refresh_from_db()
    assert product.stock_on_hand == 4
