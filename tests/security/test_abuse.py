"""Abuse limits: bodies no parser should recurse into, names with control characters, blank
passwords, SKUs differing only in case, and rate limits that say when to come back."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import User
from catalog.models import Product
from shopsite.testing import ADDRESS

from .conftest import PASSWORD

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


def test_the_unwanted_characters_are_the_controls_the_line_separators_and_the_bidi_marks():
    """``has_control_characters`` is one regular expression; checked against its definition, every code point."""
    import unicodedata

    from shopsite.validators import has_control_characters

    formatting = {0x2028, 0x2029, *range(0x202A, 0x202F), *range(0x2066, 0x206A)}
    wrong = [hex(point) for point in range(0x110000)
             if has_control_characters(chr(point)) != (unicodedata.category(chr(point)) == "Cc" or point in formatting)]
    assert wrong == []
    assert has_control_characters("Ann\u202eexe.jpg") and not has_control_characters("Ann Lee, 1 Main Street")

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


# --- rate limits -------------------------------------------------------------------------------

TOKEN = "/api/accounts/token/"


@pytest.fixture
def low_rates(settings):
    """Two requests a minute per scope, counted from zero."""
    settings.THROTTLE_RATES = {"login": "2/minute", "register": "2/minute", "checkout": "2/minute"}
    cache.clear()
    yield
    cache.clear()


def assert_retry_after(response) -> int:
    body = error_body(response, 429)
    seconds = int(response["Retry-After"])
    assert 1 <= seconds <= 60
    assert body["extra"]["retry_after_seconds"] == seconds
    return seconds


def test_the_token_api_is_rate_limited_per_address_with_retry_after(world, low_rates):
    client = APIClient(REMOTE_ADDR="198.51.100.20")
    statuses = [client.post(TOKEN, {"email": "casey@example.com", "password": PASSWORD}, format="json").status_code
                for _ in range(2)]

    response = client.post(TOKEN, {"email": "casey@example.com", "password": PASSWORD}, format="json")

    assert statuses == [200, 200]
    assert_retry_after(response)
    other = APIClient(REMOTE_ADDR="198.51.100.21").post(TOKEN, {"email": "casey@example.com", "password": PASSWORD},
                                                         format="json")
    assert other.status_code == 200


def test_registration_is_rate_limited(low_rates):
    client = APIClient(REMOTE_ADDR="198.51.100.22")
    for n in range(2):
        client.post(REGISTER, {"email": f"r{n}@example.com", "password": PASSWORD, "name": "R"}, format="json")

    response = client.post(REGISTER, {"email": "r9@example.com", "password": PASSWORD, "name": "R"}, format="json")

    assert_retry_after(response)
    assert not User.objects.filter(email="r9@example.com").exists()


def test_checkout_is_rate_limited_per_user(world, low_rates):
    client = APIClient()
    client.credentials(**world.customer.auth)
    data = {"payment_method_id": str(world.customer.owns["method_id"]), "shipping_address": ADDRESS}
    for n in range(2):
        client.post("/api/cart/checkout/", data, format="json", HTTP_IDEMPOTENCY_KEY=f"k{n}")

    assert_retry_after(client.post("/api/cart/checkout/", data, format="json", HTTP_IDEMPOTENCY_KEY="k9"))


@pytest.mark.parametrize(("path", "data"), [
    ("/accounts/login/", {"username": "casey@example.com", "password": "wrong-password"}),
    ("/accounts/register/", {"email": "page@example.com", "name": "P", "password": PASSWORD}),
    ("/accounts/password/reset/", {"email": "casey@example.com"}),
])
def test_the_login_register_and_password_reset_pages_are_rate_limited_too(world, low_rates, path, data):
    client = Client(REMOTE_ADDR="198.51.100.23")
    for _ in range(2):
        client.post(path, data)
        client.logout()

    response = client.post(path, data)

    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 1
    assert "try again in" in response.content.decode()


def test_the_lockout_429_of_the_token_api_says_retry_after(world):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        APIClient(REMOTE_ADDR="198.51.100.30").post(TOKEN, {"email": "casey@example.com", "password": "wrong"},
                                                    format="json")

    response = APIClient(REMOTE_ADDR="198.51.100.30").post(
        TOKEN, {"email": "casey@example.com", "password": PASSWORD}, format="json"
    )

    assert response.status_code == 429
    assert response["Retry-After"] == str(int(settings.AXES_COOLOFF_TIME.total_seconds()))


# --- lockout per account, across addresses -----------------------------------------------------


def test_an_account_guessed_from_many_addresses_is_locked_everywhere(world):
    per_address = settings.AXES_FAILURE_LIMIT - 1  # never enough to lock any one address
    addresses = [f"198.51.100.{n}" for n in range(100, 200)]
    statuses = []
    for address in addresses[: -(-settings.LOGIN_ACCOUNT_FAILURE_LIMIT // per_address)]:
        client = APIClient(REMOTE_ADDR=address)
        statuses += [client.post(TOKEN, {"email": "casey@example.com", "password": "wrong"}, format="json").status_code
                     for _ in range(per_address)]

    fresh = APIClient(REMOTE_ADDR="192.0.2.250").post(TOKEN, {"email": "casey@example.com", "password": PASSWORD},
                                                       format="json")

    assert statuses[: settings.LOGIN_ACCOUNT_FAILURE_LIMIT - 1] == [400] * (settings.LOGIN_ACCOUNT_FAILURE_LIMIT - 1)
    assert fresh.status_code == 429
    other_account = APIClient(REMOTE_ADDR="192.0.2.250").post(TOKEN, {"email": "olga@example.com", "password": PASSWORD},
                                                               format="json")
    assert other_account.status_code == 200


def test_a_few_failures_from_several_addresses_do_not_lock_the_account(world):
    for address in ("198.51.100.40", "198.51.100.41"):
        APIClient(REMOTE_ADDR=address).post(TOKEN, {"email": "casey@example.com", "password": "wrong"}, format="json")

    response = APIClient(REMOTE_ADDR="198.51.100.42").post(
        TOKEN, {"email": "casey@example.com", "password": PASSWORD}, format="json"
    )

    assert response.status_code == 200


# --- Content-Security-Policy -------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/accounts/login/", "/admin/login/", "/api/docs/", "/api/catalog/products/"])
def test_every_answer_carries_the_content_security_policy(path):
    response = Client().get(path)

    policy = response["Content-Security-Policy"]
    assert "script-src 'self';" in policy and "'unsafe-inline'" not in policy.split("script-src")[1].split(";")[0]
    assert "frame-ancestors 'none'" in policy


def test_the_api_browser_has_no_inline_script():
    html = Client().get("/api/docs/").content.decode()

    assert "<script>" not in html.replace(" ", "")
