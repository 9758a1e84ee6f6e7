"""What the admin shows read-only cannot be changed by posting the form anyway."""

from decimal import Decimal

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.forms.models import model_to_dict
from django.test import RequestFactory
from django.urls import reverse

from catalog.models import Product
from orders.models import Order
from payments.models import Charge

from .conftest import make_row

pytestmark = pytest.mark.django_db(databases="__all__")


def _refuses_changes(model_admin) -> bool:
    request = RequestFactory().get("/")
    request.user = get_user_model()(is_active=True, is_staff=True, is_superuser=True)
    return not model_admin.has_change_permission(request)


VIEW_ONLY = sorted(
    (model for model, model_admin in admin.site._registry.items() if _refuses_changes(model_admin)),
    key=lambda model: model._meta.label,
)


def change_url(obj) -> str:
    return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])


def test_the_view_only_admins_include_the_money_and_the_bus():
    labels = {model._meta.label for model in VIEW_ONLY}
    assert {"payments.Charge", "payments.Refund", "orders.OutboxMessage", "orders.InboxMessage",
            "cart.ProductReplica", "catalog.Reservation"} <= labels


@pytest.mark.parametrize("model", VIEW_ONLY, ids=[m._meta.label for m in VIEW_ONLY])
def test_a_view_only_row_refuses_a_posted_change(staff_client, model):
    row = make_row(model)
    before = model_to_dict(row)
    tampered = {name: "1" for name in before}

    response = staff_client.post(change_url(row), tampered)

    assert response.status_code == 403
    row.refresh_from_db()
    assert model_to_dict(row) == before


def test_a_charges_amount_cannot_be_edited(staff_client):
    charge = make_row(Charge)

    page = staff_client.get(change_url(charge))
    response = staff_client.post(change_url(charge), {"amount": "0.01", "status": "succeeded"})

    assert 'name="amount"' not in page.content.decode()
    assert response.status_code == 403
    charge.refresh_from_db()
    assert charge.amount == Decimal("12.50")


def test_an_orders_fields_stay_as_the_saga_left_them(staff_client):
    order = make_row(Order)
    before = model_to_dict(order)

    page = staff_client.get(change_url(order))
    staff_client.post(change_url(order), {
        "status": "delivered", "total": "0.01", "user_id": "999", "shipping_line1": "elsewhere", "shipping_text": "elsewhere",
        "lines-TOTAL_FORMS": "0", "lines-INITIAL_FORMS": "0", "events-TOTAL_FORMS": "0", "events-INITIAL_FORMS": "0",
    })

    body = page.content.decode()
    assert 'name="status"' not in body and 'name="_save"' not in body
    order.refresh_from_db()
    assert model_to_dict(order) == before


def test_a_products_sku_and_stock_are_not_edited_in_the_form(staff_client):
    product = Product.objects.create(sku="MUG-1", name="Mug", price=Decimal("5.00"), stock_on_hand=3)

    response = staff_client.post(change_url(product), {
        "sku": "STOLEN", "stock_on_hand": "999", "name": "Big mug", "price": "6.00", "is_active": "on",
        "description": "", "category": "",
    })

    assert response.status_code == 302, response.content
    product.refresh_from_db()
    assert (product.sku, product.stock_on_hand, product.name) == ("MUG-1", 3, "Big mug")
