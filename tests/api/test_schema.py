"""The OpenAPI schema: valid, complete, and describing the errors the API really gives."""

import json
import re

from django.core.management import call_command
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

# The schema and its browser describe the API; they are not part of it.
NOT_IN_SCHEMA = {"api-schema", "api-docs"}
IGNORED_METHODS = {"options", "head"}


def test_the_schema_is_valid_openapi_3_without_a_warning(tmp_path):
    path = tmp_path / "schema.yaml"

    # Raises on any warning or error of the generator, and on a schema that breaks the specification.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(path))

    assert path.read_text().startswith("openapi: 3.")


def api_routes(patterns=None, prefix=""):
    """(route as the schema writes it, URL name, view class) of every URL under /api/."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from api_routes(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern) and route.startswith("api/"):
            view = getattr(pattern.callback, "cls", None) or pattern.callback.view_class
            yield "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route), pattern.name, view


def operations(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            yield path, method, operation


def test_the_walk_finds_the_api():
    names = {name for _, name, _ in api_routes()}

    assert {"account-register", "order-ship", "cart-checkout", "api-docs"} <= names


def test_every_api_url_and_method_is_in_the_schema(schema):
    missing = []
    for route, name, view in api_routes():
        if name in NOT_IN_SCHEMA:
            continue
        methods = {m for m in view.http_method_names if m not in IGNORED_METHODS and hasattr(view, m)}
        documented = set(schema["paths"].get(route, {}))
        missing += [f"{method.upper()} {route}" for method in sorted(methods - documented)]

    assert missing == []


def test_every_operation_documents_its_errors_with_the_shared_error_body(schema):
    error = {"$ref": "#/components/schemas/Error"}
    for path, method, operation in operations(schema):
        responses = operation["responses"]
        errors = {code for code in responses if code.startswith("4")}
        where = f"{method.upper()} {path}"
        assert all(responses[code]["content"]["application/json"]["schema"] == error for code in errors), where
        if {} not in operation["security"]:
            assert "401" in errors, f"{where} needs a signed-in user but does not document 401"
        if "{" in path:
            assert "404" in errors, f"{where} takes an id but does not document 404"
        if "requestBody" in operation or any(p["in"] == "query" and p["name"] != "page" for p in operation.get("parameters", [])):
            assert "400" in errors, f"{where} takes input but does not document 400"
    assert set(schema["components"]["schemas"]["Error"]["properties"]) == {"message", "extra"}


def test_every_list_is_paginated(schema):
    lists = [(path, op) for path, method, op in operations(schema) if op["operationId"].endswith("_list")]

    assert {path for path, _ in lists} == {
        "/api/accounts/addresses/", "/api/catalog/products/", "/api/notifications/", "/api/orders/", "/api/orders/all/",
        "/api/payments/charges/", "/api/payments/methods/",
    }
    for path, operation in lists:
        body = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
        page = schema["components"]["schemas"][body.rsplit("/", 1)[1]]
        assert set(page["properties"]) == {"count", "next", "previous", "results"}, path
        assert "page" in {p["name"] for p in operation["parameters"]}, path
        assert "404" in operation["responses"], f"{path} does not document a page past the end"


def test_path_parameters_are_typed(schema):
    types = {
        p["name"]: (p["schema"]["type"], p["schema"].get("format"))
        for _, _, operation in operations(schema)
        for p in operation.get("parameters", [])
        if p["in"] == "path"
    }

    assert types == {
        "product_id": ("integer", None),
        "notification_id": ("string", "uuid"),
        "order_id": ("string", "uuid"),
        "method_id": ("string", "uuid"),
        "address_id": ("string", "uuid"),
    }


def test_checkout_documents_the_structured_address_and_where_its_errors_go(schema):
    components = schema["components"]["schemas"]
    checkout = components["CheckoutInput"]["properties"]

    assert checkout["shipping_address_id"]["format"] == "uuid"
    assert "extra.fields.shipping_address.postal_code" in checkout["shipping_address"]["description"]
    [ref] = [part["$ref"] for part in checkout["shipping_address"]["allOf"]]
    address = components[ref.rsplit("/", 1)[1]]
    assert set(address["required"]) == {"name", "line1", "city", "postal_code", "country"}
    assert address["properties"]["postal_code"]["maxLength"] == 20
    assert address["properties"]["country"]["allOf"] == [{"$ref": "#/components/schemas/Country"}]
    assert len(components["Country"]["enum"]) == 249 and {"DE", "US", "GB"} <= set(components["Country"]["enum"])


def test_checkout_documents_the_idempotency_key_header(schema):
    operation = schema["paths"]["/api/cart/checkout/"]["post"]

    [header] = [p for p in operation["parameters"] if p["in"] == "header"]
    assert (header["name"], header["required"]) == ("Idempotency-Key", True)
    assert (header["schema"]["minLength"], header["schema"]["maxLength"]) == (1, 100)
    # No 409: the cart empties at checkout, so a second checkout never waits on the first.
    assert set(operation["responses"]) == {"202", "400", "401", "404", "429"}


def test_staff_operations_document_403(schema):
    staff = [
        ("/api/catalog/products/", "post"), ("/api/catalog/products/{product_id}/", "patch"),
        ("/api/catalog/products/{product_id}/stock/", "post"),
        ("/api/catalog/products/{product_id}/image/", "put"), ("/api/catalog/products/{product_id}/image/", "delete"),
        ("/api/orders/all/", "get"),
        ("/api/orders/{order_id}/ship/", "post"), ("/api/orders/{order_id}/deliver/", "post"),
        ("/api/orders/{order_id}/staff-cancel/", "post"),
    ]
    documented = {(path, method) for path, method, op in operations(schema) if "403" in op["responses"]}

    assert documented == set(staff)


def test_the_schema_is_served():
    response = APIClient().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")

    assert response.status_code == 200
    assert "/api/cart/checkout/" in json.loads(response.content)["paths"]


def test_the_api_browser_is_served_with_local_assets_only():
    client = APIClient()
    response = client.get("/api/docs/")

    assert response.status_code == 200
    html = response.content.decode()
    assert not re.findall(r"https?://|(?:src|href)=[\"']//", html), "the page refers to another host"
    assets = re.findall(r"(?:src|href)=[\"'](/[^\"']+)[\"']", html)
    assert len(assets) >= 3
    for asset in assets:
        assert client.get(asset).status_code == 200, asset
    # The start-up script is a file of its own (no inline script under the Content-Security-Policy).
    [script] = [asset for asset in assets if "?script" in asset]
    start_up = client.get(script).content.decode()
    assert '"validatorUrl": null' in start_up
    assert 'url: "/api/schema/"' in start_up
