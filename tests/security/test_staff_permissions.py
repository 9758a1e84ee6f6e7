"""Every staff operation of the API checks its own Django permission, the one the admin checks.

The staff operations come from the OpenAPI schema: an operation is staff-only
when its summary starts with "Staff:" and it documents 403, and it must do
both or neither. Each must have its permission in tests/staff_permissions.py,
so a new staff endpoint cannot slip in unchecked. Each is then called by a
customer, by staff without permissions, by staff holding every staff
permission but the one it needs (all refused with 403, nothing changed), and
by staff holding exactly that one (the business answer).
"""

from __future__ import annotations

import pytest
from drf_spectacular.generators import SchemaGenerator

from orders import services as order_services
from tests.staff_permissions import STAFF_PERMISSIONS

from .conftest import Member, _member
from .test_object_access import call, database_state

SCHEMA = SchemaGenerator().get_schema(request=None, public=True)


def is_labelled_staff(operation) -> bool:
    return operation.get("summary", "").startswith("Staff:")


def documents_403(operation) -> bool:
    return "403" in operation["responses"]


OPERATIONS = {(method, path): op for path, item in SCHEMA["paths"].items() for method, op in item.items()}
STAFF = sorted(key for key, op in OPERATIONS.items() if is_labelled_staff(op) or documents_403(op))

#: What each operation expects of the seeded confirmed order before it is called.
PREPARE = {
    ("post", "/api/orders/{order_id}/deliver/"): lambda ids: order_services.order_ship(order_id=ids["order_id"]),
}


def test_every_staff_operation_is_labelled_documents_403_and_has_its_permission():
    assert len(STAFF) >= 7, "the rule found too few staff operations: did the summaries change?"
    for key in STAFF:
        operation = OPERATIONS[key]
        where = f"{key[0].upper()} {key[1]}"
        assert is_labelled_staff(operation) and documents_403(operation), f"{where}: say 'Staff:' and document 403"
        assert key in STAFF_PERMISSIONS, f"{where} is a staff operation: name its permission in tests/staff_permissions.py"
        assert f"`{STAFF_PERMISSIONS[key]}`" in operation.get("description", ""), f"{where}: the schema names another"
    assert sorted(STAFF_PERMISSIONS) == STAFF, "tests/staff_permissions.py names an operation that is not staff-only"


def test_no_other_operation_claims_a_permission():
    claiming = [key for key, op in OPERATIONS.items() if "needs the permission" in op.get("description", "")]

    assert sorted(claiming) == STAFF


def staff_member(email: str, *granted: str) -> Member:
    # Told to the catalog's role replica too, as the user messages would.
    return _member(email, "Staff", granted=granted, role="staff", is_staff=True)


@pytest.mark.django_db(databases="__all__")
@pytest.mark.parametrize(("method", "path"), STAFF, ids=[f"{m.upper()} {p}" for m, p in STAFF])
def test_a_staff_operation_needs_exactly_its_permission(world, method, path):
    needed = STAFF_PERMISSIONS[method, path]
    ids = world.other.owns  # a customer's confirmed order, a product on sale
    PREPARE.get((method, path), lambda ids: None)(ids)
    refused = {
        "a customer": world.customer,
        "staff without permissions": staff_member("none@example.com"),
        "staff with every other staff permission": staff_member(
            "others@example.com", *(p for p in STAFF_PERMISSIONS.values() if p != needed)
        ),
    }
    allowed = staff_member("exactly@example.com", needed)
    before = database_state()

    answers = {who: call(member, method, path, ids) for who, member in refused.items()}

    assert {who: response.status_code for who, response in answers.items()} == dict.fromkeys(refused, 403)
    assert all(needed in response.json()["message"] for response in answers.values())
    assert database_state() == before

    response = call(allowed, method, path, ids)
    assert response.status_code in (200, 201, 202), response.content
