from decimal import Decimal

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.test import RequestFactory

from catalog.admin import ProductAdmin
from catalog.models import OutboxMessage, Product
from shopsite.limits import MAX_PRICE, MAX_STOCK
from shopsite.testing import recorded

pytestmark = pytest.mark.django_db(databases=["catalog"])


def admin_request(user=None):
    request = RequestFactory().post("/")
    # A superuser that is never saved: has_perm answers without the accounts database.
    request.user = user or get_user_model()(is_active=True, is_staff=True, is_superuser=True)
    return request


def submit(product: Product | None, data: dict, user=None) -> Product:
    """Post the admin's product form as the change page would."""
    model_admin = ProductAdmin(Product, admin.site)
    request = admin_request(user)
    form = model_admin.get_form(request, obj=product)(data=data, instance=product)
    assert form.is_valid(), form.errors
    obj = form.save(commit=False)
    model_admin.save_model(request, obj, form, change=product is not None)
    return obj


def test_a_product_added_in_the_admin_is_published():
    product = submit(None, {"sku": "MUG", "name": "Mug", "price": "9.50", "stock_on_hand": 4, "is_active": "on"})

    assert product.pk is not None and product.version == 1
    [published] = recorded(OutboxMessage, "product.published")
    assert (published["product_id"], published["available"]) == (product.pk, 4)


def test_an_admin_edit_bumps_the_version_and_tells_the_cart(make_product):
    product = make_product(name="Mug", price="5.00", stock=3)

    saved = submit(product, {"name": "Mug", "price": "6.00", "is_active": "on", "adjust_stock_by": 2})

    saved.refresh_from_db()
    assert (saved.price, saved.stock_on_hand, saved.version) == (Decimal("6.00"), 5, 3)
    assert [m["price"] for m in recorded(OutboxMessage, "product.updated")] == ["6.00"]
    assert [m["available"] for m in recorded(OutboxMessage, "stock.changed")] == [5]


def test_the_admin_cannot_remove_more_stock_than_is_on_hand(make_product):
    product = make_product(stock=3)
    model_admin = ProductAdmin(Product, admin.site)
    form_class = model_admin.get_form(admin_request(), obj=product)

    form = form_class(data={"name": product.name, "price": "10.00", "is_active": "on", "adjust_stock_by": -4}, instance=product)

    assert not form.is_valid()
    assert "adjust_stock_by" in form.errors


@pytest.mark.django_db(databases=["default", "catalog"])
def test_adjusting_stock_in_the_admin_needs_the_stock_permission(make_product, make_user):
    product = make_product(name="Mug", price="5.00", stock=3)
    editor = make_user("change_product")

    saved = submit(product, {"name": "Mug", "price": "6.00", "is_active": "on", "adjust_stock_by": 1_000_000}, editor)

    saved.refresh_from_db()
    assert (saved.price, saved.stock_on_hand) == (Decimal("6.00"), 3)
    assert recorded(OutboxMessage, "stock.changed") == []
    model_admin = ProductAdmin(Product, admin.site)
    assert "adjust_stock_by" not in model_admin.get_fields(admin_request(editor), product)
    assert "adjust_stock_by" in model_admin.get_fields(admin_request(make_user("change_product", "adjust_stock")), product)


@pytest.mark.django_db(databases=["default", "catalog"])
def test_the_admin_pages_of_the_catalog_render(client, make_product):
    admin_user = get_user_model().objects.create_superuser(email="admin@example.com", password="x", name="Admin")
    client.force_login(admin_user)
    product = make_product()

    for page in ["product", "reservation", "reservationoutcome", "userrole", "outboxmessage", "inboxmessage"]:
        assert client.get(f"/admin/catalog/{page}/").status_code == 200, page
    assert client.get(f"/admin/catalog/product/{product.pk}/change/").status_code == 200
    assert client.get("/admin/catalog/product/add/").status_code == 200
    assert client.get("/admin/catalog/reservation/add/").status_code == 403


def form_errors(product: Product | None, data: dict) -> dict:
    model_admin = ProductAdmin(Product, admin.site)
    form = model_admin.get_form(admin_request(), obj=product)(data=data, instance=product)
    assert not form.is_valid()
    return form.errors


def test_the_admin_refuses_a_price_above_the_shops_limit():
    errors = form_errors(None, {"sku": "CAR", "name": "Car", "price": str(MAX_PRICE + Decimal("0.01")),
                                "stock_on_hand": 1, "is_active": "on"})

    assert "price" in errors
def test_the_admin_refuses_a_new_product_with_more_than_the_maximum_stock():
    # The service refused it inside save_model: the admin answered 500.
    errors = form_errors(None, {"sku": "BIG", "name": "Big", "price": "1.00", "stock_on_hand": MAX_STOCK + 1})

    assert "stock_on_hand" in errors
    assert not Product.objects.filter(sku="BIG").exists()


@pytest.mark.parametrize("delta", [1, 2**70])
def test_the_admin_refuses_to_add_stock_past_the_maximum(make_product, delta):
    product = make_product(stock=MAX_STOCK)

    errors = form_errors(product, {"name": product.name, "price": "10.00", "is_active": "on", "adjust_stock_by": delta})

    assert "adjust_stock_by" in errors
    product.refresh_from_db()
    assert product.stock_on_hand == MAX_STOCK


def test_the_admin_refuses_a_sku_differing_only_in_case(make_product):
    make_product(sku="MUG-1")

    errors = form_errors(None, {"sku": "mug-1", "name": "Mug", "price": "1.00", "stock_on_hand": 1})

    assert "without regard to case" in str(errors)
    assert Product.objects.filter(sku__iexact="mug-1").count() == 1


def test_the_admin_refuses_a_product_name_with_a_line_break():
    errors = form_errors(None, {"sku": "NL", "name": "Mug\r\nFree", "price": "1.00", "stock_on_hand": 1})

    assert "name" in errors
