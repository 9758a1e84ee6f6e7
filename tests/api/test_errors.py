"""What the schema promises about errors, checked against every operation it lists."""

import uuid

import pytest

from .conftest import CUSTOMER, STAFF, assert_error, assert_unauthenticated, client_for


def url(path: str, operation: dict) -> str:
    """The path with each id filled in with one nobody has."""
    for parameter in operation.get("parameters", []):
        if parameter["in"] == "path":
            value = uuid.uuid4() if parameter["schema"].get("format") == "uuid" else 999_999
            path = path.replace("{" + parameter["name"] + "}", str(value))
    return path


def operations(schema, keep=lambda operation: True):
    return [
        (method, url(path, operation))
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if keep(operation)
    ]


def test_every_operation_for_signed_in_users_answers_401_to_anyone_else(schema):
    protected = operations(schema, keep=lambda operation: {} not in operation["security"])

    assert len(protected) > 15
    for method, path in protected:
        assert_unauthenticated(getattr(client_for(None), method)(path, {}, format="json"))


@pytest.mark.django_db(databases=["catalog"])
def test_every_staff_operation_answers_403_to_a_customer(schema):
    staff_only = operations(schema, keep=lambda operation: "403" in operation["responses"])

    assert len(staff_only) == 9
    for method, path in staff_only:
        assert_error(getattr(client_for(CUSTOMER), method)(path, {}, format="json"), 403)


@pytest.mark.django_db(databases=["catalog"])
def test_every_url_answers_405_with_the_error_body_to_a_method_it_does_not_have(schema):
    staff = client_for(STAFF)

    for path, item in schema["paths"].items():
        unused = next(m for m in ("put", "delete", "patch", "post") if m not in item)
        body = assert_error(getattr(staff, unused)(url(path, item[next(iter(item))]), {}, format="json"), 405)
        assert unused.upper() in body["message"]


@pytest.mark.django_db(databases="__all__")
def test_every_list_answers_404_with_the_error_body_to_a_page_past_the_end(schema):
    lists = [path for method, path in operations(schema, keep=lambda op: op["operationId"].endswith("_list"))]

    assert len(lists) == 7
    for path in lists:
        assert assert_error(client_for(STAFF).get(path, {"page": 99}), 404)["message"] == "Invalid page."


def test_malformed_json_is_a_400_with_the_error_body():
    client = client_for(CUSTOMER)

    response = client.post("/api/cart/items/", data="{not json", content_type="application/json")

    assert assert_error(response, 400)["message"].startswith("JSON parse error")


def failing(*args, **kwargs):
    raise RuntimeError("a bug nobody caught")


@pytest.mark.django_db(databases="__all__")
def test_an_error_nothing_handled_answers_500_with_the_error_body_under_the_api(monkeypatch):
    monkeypatch.setattr("catalog.selectors.product_list", failing)
    client = client_for(CUSTOMER)
    client.raise_request_exception = False

    body = assert_error(client.get("/api/catalog/products/"), 500)
    assert "a bug nobody caught" not in body["message"]  # nothing of the internals leaks


@pytest.mark.django_db(databases="__all__")
def test_an_error_nothing_handled_on_a_page_answers_the_500_page(monkeypatch):
    from django.test import Client

    monkeypatch.setattr("catalog.selectors.product_list", failing)
    response = Client(raise_request_exception=False).get("/")

    assert response.status_code == 500
    assert response["Content-Type"].startswith("text/html")
