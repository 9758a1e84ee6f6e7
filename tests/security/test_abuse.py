"""Abuse limits: bodies no parser should recurse into, names with control characters, blank
passwords, SKUs differing only in case, and rate limits that say when to come back."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import User
from catalog.models import Product

pytestmark = pytest.mark.django_db(databases="__all__")

REGISTER = "/api/accounts/register/"


def error_body(response, status: int) -> dict:
    assert response.status_code == status, response.content[:500]
    body = response.json()
    assert set(body) == {"message", "extra"} and body["message"]
    return body


# --- JSON nested too deeply --------------------------------------------------------------------


@pytest.mark.parametrize("nesting", ["[" * 1500, '{"a":' * 1500, "[" * 33 + "]" * 33])
def test_json_nested_too_deeply_is_a_400_even_without_a_login(nesting):
    response = APIClient(raise_request_exception=False).post(REGISTER, nesting, content_type="application/json")

    assert "nested deeper" in error_body(response, 400)["message"]


def test_brackets_inside_strings_do_not_count_as_nesting():
    name = "[" * 100 + "{" * 40
    response = APIClient().post(
        REGISTER, {"email": "deep@example.com", "password": "a-long-test-password", "name": name}, format="json"
    )

    assert response.status_code in (201, 202), response.content
    assert User.objects.get(email="deep@example.com").name == name


# --- names without control characters ----------------------------------------------------------

BAD_NAMES = ["Ann\r\nBcc: x@example.com", "Ann\tB", "Ann\x00", "Ann\u2028B", "Ann\u202egpj.exe"]


@pytest.mark.parametrize("name", BAD_NAMES)
def test_a_name_with_control_characters_is_refused_at_registration(name):
    response = APIClient().post(
        REGISTER, {"email": "cc@example.com", "password": "a-long-test-password", "name": name}, format="json"
    )

    assert "name" in error_body(response, 400)["extra"]["fields"]
    assert not User.objects.filter(email="cc@example.com").exists()


@pytest.mark.parametrize("name", BAD_NAMES[:2])
def test_a_name_with_control_characters_is_refused_on_the_profile(world, name):
    client = APIClient()
    client.credentials(**world.customer.auth)

    response = client.patch("/api/accounts/me/", {"name": name}, format="json")

    assert "name" in error_body(response, 400)["extra"]["fields"]


def test_a_name_with_control_characters_is_a_form_error_on_the_pages(world):
    client = Client()
    client.force_login(world.customer.user)

    response = client.post("/accounts/profile/", {"name": "Casey\r\nX"})

    assert response.status_code == 200
    assert "control characters" in response.context["form"].errors["name"][0]
    assert User.objects.get(pk=world.customer.user.pk).name == "Casey Customer"


def test_accented_and_other_scripts_names_are_accepted():
    response = APIClient().post(
        REGISTER, {"email": "zoe@example.com", "password": "a-long-test-password", "name": "Zoë 李 O'Brien-Łukasz"},
        format="json",
    )

    assert response.status_code in (201, 202), response.content


@pytest.mark.parametrize("field", ["sku", "name", "category"])
def test_a_product_text_with_control_characters_is_refused(world, field):
    client = APIClient()
    client.credentials(**world.staff.auth)
    data = {"sku": "LINE", "name": "Line", "price": "1.00", "stock": 1, "category": "mugs", field: "A\nB"}

    response = client.post("/api/catalog/products/", data, format="json")

    assert field in error_body(response, 400)["extra"]["fields"]
    assert not Product.objects.filter(name__in=["Line", "A\nB"]).exists()


# --- passwords of only spaces ------------------------------------------------------------------


@pytest.mark.parametrize("password", [" " * 8, " " * 20, "\t \u00a0" * 4])
def test_a_password_of_only_whitespace_is_refused(password):
    response = APIClient().post(REGISTER, {"email": "blank@example.com", "password": password, "name": "B"},
                                format="json")

    body = error_body(response, 400)
    assert "more than spaces" in " ".join(body["extra"]["password"])
    assert not User.objects.filter(email="blank@example.com").exists()


def test_a_password_with_spaces_around_words_is_still_fine():
    response = APIClient().post(REGISTER, {"email": "sp@example.com", "password": "  purple monkey dishwasher ",
                                           "name": "S"}, format="json")

    assert response.status_code in (201, 202), response.content


# --- SKUs unique whatever their case -----------------------------------------------------------


def test_a_sku_differing_only_in_case_is_a_409_at_the_api(world):
    client = APIClient()
    client.credentials(**world.staff.auth)
    existing = Product.objects.get(pk=world.product_ids[0]).sku  # SEC-1

    response = client.post("/api/catalog/products/", {"sku": existing.lower(), "name": "Twin", "price": "1.00",
                                                       "stock": 1}, format="json")

    assert "without regard to case" in error_body(response, 409)["message"]
    assert not Product.objects.filter(name="Twin").exists()


def test_the_database_itself_refuses_a_sku_differing_only_in_case(world):
    with pytest.raises(IntegrityError), transaction.atomic(using="catalog"):
        Product.objects.create(sku="sec-2", name="Twin", price=Decimal("1.00"))
