"""Object access, for every operation of the schema that takes an id.

Each such operation is public, staff-only (it documents 403), or works on
something the signed-in customer owns. For the last kind, another customer's
id is as unknown as one that does not exist: 404, and nothing changes. A new
endpoint with an id fails the first test until it is put in one of the kinds.
"""

from __future__ import annotations

import pytest
from django.apps import apps
from django.db import router
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from tests.images import picture, upload
from shopsite.testing import ADDRESS

SCHEMA = SchemaGenerator().get_schema(request=None, public=True)

#: Operations on what belongs to the signed-in customer, found by the id in the path.
CUSTOMER_OWNED = {
    ("post", "/api/notifications/{notification_id}/read/"),
    ("patch", "/api/cart/items/{product_id}/"),
    ("delete", "/api/cart/items/{product_id}/"),
    ("get", "/api/orders/{order_id}/"),
    ("post", "/api/orders/{order_id}/cancel/"),
    ("get", "/api/payments/methods/{method_id}/"),
    ("get", "/api/accounts/addresses/{address_id}/"),
    ("put", "/api/accounts/addresses/{address_id}/"),
    ("patch", "/api/accounts/addresses/{address_id}/"),
    ("delete", "/api/accounts/addresses/{address_id}/"),
    ("post", "/api/accounts/addresses/{address_id}/default/"),
}

#: A body that is valid, so that only who asks decides the answer.
VALID_BODIES = {
    ("patch", "/api/cart/items/{product_id}/"): {"quantity": 1},
    ("post", "/api/catalog/products/"): {"sku": "NEW-1", "name": "New", "price": "1.00", "stock": 1},
    ("patch", "/api/catalog/products/{product_id}/"): {"name": "Renamed"},
    ("post", "/api/catalog/products/{product_id}/stock/"): {"quantity_delta": 5},
    # A file is read once: a new one for every request.
    ("put", "/api/catalog/products/{product_id}/image/"): lambda: {"image": upload(picture((60, 40)))},
    ("put", "/api/accounts/addresses/{address_id}/"): {**ADDRESS, "line1": "9 Other St"},
    ("patch", "/api/accounts/addresses/{address_id}/"): {"city": "Shelbyville"},
}
#: Operations that read a multipart form (an upload) rather than JSON.
MULTIPART = {("put", "/api/catalog/products/{product_id}/image/")}


def operations(keep):
    return sorted(
        (method, path)
        for path, item in SCHEMA["paths"].items()
        for method, operation in item.items()
        if keep(path, operation)
    )


def is_staff_only(operation) -> bool:
    return "403" in operation["responses"]


def is_public(operation) -> bool:
    return {} in operation.get("security", [{}])


WITH_AN_ID = operations(lambda path, operation: "{" in path)
STAFF_ONLY = operations(lambda path, operation: is_staff_only(operation))
OWNED = [op for op in WITH_AN_ID if op in CUSTOMER_OWNED]


def database_state() -> dict[str, list[dict]]:
    """Every row of every table of every service's database."""
    state = {}
    for model in apps.get_models():
        if model._meta.proxy or not model._meta.managed:
            continue
        rows = model._default_manager.using(router.db_for_read(model)).order_by("pk").values()
        state[model._meta.label] = list(rows)
    return state


def call(member, method: str, path: str, ids: dict):
    client = APIClient()
    client.credentials(**member.auth)
    url = path.format(**{name: value for name, value in ids.items() if "{" + name + "}" in path})
    body = VALID_BODIES.get((method, path))
    return getattr(client, method)(url, body() if callable(body) else body,
                                   format="multipart" if (method, path) in MULTIPART else "json")


def assert_error(response, status: int) -> None:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"message", "extra"} and body["message"]


def test_every_operation_with_an_id_is_public_staff_only_or_the_customers_own():
    kinds = {}
    for method, path in WITH_AN_ID:
        operation = SCHEMA["paths"][path][method]
        kinds[method, path] = [
            kind
            for kind, applies in [
                ("public", is_public(operation)),
                ("staff-only", is_staff_only(operation)),
                ("customer-owned", (method, path) in CUSTOMER_OWNED),
            ]
            if applies
        ]

    unclassified = sorted(op for op, found in kinds.items() if len(found) != 1)
    assert unclassified == [], "say which kind each of these is (CUSTOMER_OWNED, or document 403 for staff)"
    assert CUSTOMER_OWNED <= set(WITH_AN_ID), "CUSTOMER_OWNED names an operation the schema no longer has"
    assert len(WITH_AN_ID) >= 10 and len(OWNED) == len(CUSTOMER_OWNED)


@pytest.mark.django_db(databases="__all__")
@pytest.mark.parametrize(("method", "path"), OWNED, ids=[f"{m.upper()} {p}" for m, p in OWNED])
def test_another_customers_id_is_a_404_and_changes_nothing(world, method, path):
    intruder, owner = world.customer, world.other
    before = database_state()

    assert_error(call(intruder, method, path, owner.owns), 404)

    assert database_state() == before
    # The same request from the owner works, so the 404 was about whose it is, and,
    # for a write, would have changed something.
    response = call(owner, method, path, owner.owns)
    assert response.status_code < 300, response.content
    if method != "get":
        assert database_state() != before


@pytest.mark.django_db(databases="__all__")
@pytest.mark.parametrize(("method", "path"), STAFF_ONLY, ids=[f"{m.upper()} {p}" for m, p in STAFF_ONLY])
def test_a_staff_only_operation_refuses_a_customer_and_changes_nothing(world, method, path):
    # Real ids: another customer's confirmed order, a product on sale.
    ids = world.other.owns
    before = database_state()

    assert_error(call(world.customer, method, path, ids), 403)

    assert database_state() == before
    # Staff may (delivering an order that is not shipped yet is refused for that reason: 409).
    response = call(world.staff, method, path, ids)
    assert response.status_code in (200, 201, 202, 409), response.content


def test_the_staff_only_operations_are_the_ones_staff_run():
    # The schema is where STAFF_ONLY comes from; a staff operation that forgot
    # to document 403 would silently drop out of the test above.
    assert STAFF_ONLY == sorted([
        ("delete", "/api/catalog/products/{product_id}/image/"),
        ("get", "/api/orders/all/"),
        ("patch", "/api/catalog/products/{product_id}/"),
        ("post", "/api/catalog/products/"),
        ("post", "/api/catalog/products/{product_id}/stock/"),
        ("post", "/api/orders/{order_id}/deliver/"),
        ("post", "/api/orders/{order_id}/ship/"),
        ("post", "/api/orders/{order_id}/staff-cancel/"),
        ("put", "/api/catalog/products/{product_id}/image/"),
    ])
