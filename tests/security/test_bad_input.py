"""Bad input is refused with a clear error and never processed: oversized bodies and fields,
unknown URLs, and the inputs that once made the API answer 500."""

from __future__ import annotations

import json

import pytest
from django.conf import settings
from django.test import Client
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from accounts.models import User
from catalog.models import Product
from payments.models import PaymentMethod

pytestmark = pytest.mark.django_db(databases="__all__")

SCHEMA = SchemaGenerator().get_schema(request=None, public=True)
LIMIT = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
REGISTER = "/api/accounts/register/"


def client_for(member=None) -> APIClient:
    client = APIClient(raise_request_exception=False)
    if member is not None:
        client.credentials(**member.auth)
    return client


def error_body(response, status: int) -> dict:
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert set(body) == {"message", "extra"} and body["message"]
    return body


def registration(name: str) -> str:
    return json.dumps({"email": "big@example.com", "password": "a-long-test-password", "name": name})


# --- oversized bodies ------------------------------------------------------------------------


def test_the_body_limit_is_64_kib_by_default():
    assert LIMIT == 64 * 1024


def test_an_api_body_over_the_limit_is_a_413_and_is_not_processed():
    response = client_for().post(REGISTER, registration("n" * LIMIT), content_type="application/json")

    body = error_body(response, 413)
    assert body["message"].startswith("Request body too large")
    assert body["extra"] == {"max_bytes": LIMIT}
    assert not User.objects.filter(email="big@example.com").exists()


def test_a_body_of_ten_megabytes_is_refused_the_same_way():
    response = client_for().post(REGISTER, registration("n" * 10_000_000), content_type="application/json")

    error_body(response, 413)


def test_a_body_just_under_the_limit_is_read():
    padding = LIMIT - len(registration("Nia"))
    response = client_for().post(REGISTER, registration("Nia") + " " * padding, content_type="application/json")

    assert response.status_code == 201


def test_a_page_body_over_the_limit_is_a_plain_413():
    response = Client().post("/accounts/login/", {"username": "a@example.com", "password": "p" * LIMIT})

    assert response.status_code == 413
    assert response["Content-Type"].startswith("text/plain")
    assert response.content.decode().startswith("Request body too large")


def test_the_api_error_handler_also_turns_a_too_big_form_body_into_a_413(settings):
    # Behind the middleware, Django's own check (on form bodies) still gives the API's answer.
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if m != "shopsite.middleware.RequestBodyLimitMiddleware"]
    body = f"email=big%40example.com&password=a-long-test-password&name={'n' * LIMIT}"

    response = client_for().post(REGISTER, body, content_type="application/x-www-form-urlencoded")

    assert error_body(response, 413)["message"].startswith("Request body too large")
    assert not User.objects.filter(email="big@example.com").exists()


def test_too_many_form_fields_is_a_400_with_the_error_body():
    body = "email=a%40example.com&password=x&name=n" + "&f=1" * (settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1)

    response = client_for().post(REGISTER, body, content_type="application/x-www-form-urlencoded")

    error_body(response, 400)


# --- oversized fields ------------------------------------------------------------------------


def request_bodies():
    for path, item in SCHEMA["paths"].items():
        for method, operation in item.items():
            if "requestBody" in operation:
                # JSON, or only a multipart form for an upload (a product's image).
                content = operation["requestBody"]["content"]
                ref = (content.get("application/json") or content["multipart/form-data"])["schema"]["$ref"]
                yield method, path, operation, SCHEMA["components"]["schemas"][ref.rsplit("/", 1)[1]]


def unbounded(properties: dict) -> list[str]:
    """The inputs that accept values of any size."""
    loose = []
    for name, spec in properties.items():
        # A file (format binary) is bounded by the size of the body a view that takes uploads reads.
        if spec.get("type") == "string" and not (
            "maxLength" in spec or "enum" in spec or spec.get("format") in ("uuid", "binary") or "pattern" in spec
        ):
            loose.append(name)
        if spec.get("type") == "integer" and not ("minimum" in spec and "maximum" in spec):
            loose.append(name)
    return loose


def test_every_input_of_the_api_is_bounded():
    loose = []
    for method, path, operation, body in request_bodies():
        loose += [f"{method.upper()} {path} body: {name}" for name in unbounded(body["properties"])]
        parameters = {p["name"]: p["schema"] for p in operation.get("parameters", []) if p["in"] != "path"}
        loose += [f"{method.upper()} {path} parameter: {name}" for name in unbounded(parameters)]
    for path, item in SCHEMA["paths"].items():
        for method, operation in item.items():
            # Pages are checked by the paginator: a page past the end is a 404.
            query = {p["name"]: p["schema"] for p in operation.get("parameters", []) if p["in"] == "query"}
            query.pop("page", None)
            loose += [f"{method.upper()} {path} query: {name}" for name in unbounded(query)]

    assert sorted(set(loose)) == []


BOUNDED_FIELDS = [
    (method, path, name, spec["maxLength"], "403" in operation["responses"])
    for method, path, operation, body in request_bodies()
    for name, spec in body["properties"].items()
    if "maxLength" in spec
]


@pytest.mark.parametrize(
    ("method", "path", "field", "max_length", "staff"), BOUNDED_FIELDS,
    ids=[f"{m.upper()} {p} {f}" for m, p, f, _, _ in BOUNDED_FIELDS],
)
@pytest.mark.parametrize("size", ["one too many", "50 KB"])
def test_a_field_over_its_length_is_a_400_naming_it(world, method, path, field, max_length, staff, size):
    value = "x" * (max_length + 1 if size == "one too many" else 50_000)
    url = path.format(product_id=world.product_ids[0], address_id=world.customer.owns["address_id"])
    before = list(Product.objects.values()), list(User.objects.values()), PaymentMethod.objects.count()

    response = getattr(client_for(world.staff if staff else world.customer), method)(
        url, {field: value}, format="json", HTTP_IDEMPOTENCY_KEY="fields-test"
    )

    body = error_body(response, 400)
    assert field in body["extra"]["fields"], body
    assert (list(Product.objects.values()), list(User.objects.values()), PaymentMethod.objects.count()) == before


def test_an_oversized_field_on_a_page_is_a_form_error():
    response = Client().post("/accounts/register/", {"email": "big@example.com", "password": "a-long-password",
                                                     "name": "n" * 50_000})

    assert response.status_code == 200
    assert response.context["form"].errors["name"]
    assert not User.objects.filter(email="big@example.com").exists()


# --- unknown URLs ------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/api/nothing-here/", "/api/orders/not-an-id/", "/api/catalog/products/-1/"])
def test_an_unknown_api_url_is_a_404_with_the_error_body(url):
    assert error_body(client_for().get(url), 404)["message"] == "Not found."


def test_a_request_for_a_host_the_shop_does_not_serve_is_a_400_with_the_error_body():
    assert error_body(client_for().get("/api/catalog/products/", HTTP_HOST="evil.example"), 400)


def test_an_unknown_page_keeps_the_usual_404_page():
    response = Client().get("/nothing-here/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
    assert b"Not Found" in response.content


# --- inputs that once gave a 500 ---------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/catalog/products/", "/api/payments/methods/"])
def test_options_on_a_list_that_also_creates_answers(world, path):
    # DRF's default OPTIONS answer needs a serializer_class these views do not have: it was a 500.
    response = client_for(world.staff).options(path)

    assert response.status_code == 200
    assert response.json()["name"]


def test_a_stock_beyond_what_a_database_column_holds_is_a_400(world):
    response = client_for(world.staff).post(
        "/api/catalog/products/", {"sku": "HUGE", "name": "Huge", "price": "1.00", "stock": 2**70}, format="json"
    )

    assert "stock" in error_body(response, 400)["extra"]["fields"]
    assert not Product.objects.filter(sku="HUGE").exists()


def test_adding_stock_beyond_the_maximum_is_a_400(world):
    from shopsite.limits import MAX_STOCK

    product_id = world.product_ids[0]
    Product.objects.filter(pk=product_id).update(stock_on_hand=MAX_STOCK)

    response = client_for(world.staff).post(f"/api/catalog/products/{product_id}/stock/", {"quantity_delta": 1},
                                            format="json")

    assert "at most" in error_body(response, 400)["message"]
    assert Product.objects.get(pk=product_id).stock_on_hand == MAX_STOCK


@pytest.mark.parametrize(
    ("card_number", "cvc"),
    [
        ("²" * 16, "123"),  # str.isdigit() says yes, int() says no: it was a 500
        ("٤٢٤٢٤٢٤٢٤٢٤٢٤٢٤٢", "123"),  # Arabic-Indic digits passed the Luhn check and were saved
        ("4242424242424242", "١٢٣"),
    ],
)
def test_only_ascii_digits_make_a_card(world, card_number, cvc):
    before = PaymentMethod.objects.count()

    response = client_for(world.customer).post(
        "/api/payments/methods/", {"card_number": card_number, "exp_month": 12, "exp_year": 2040, "cvc": cvc},
        format="json",
    )

    error_body(response, 400)
    assert PaymentMethod.objects.count() == before
