import json
from dataclasses import dataclass

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient


@dataclass(frozen=True)
class ApiUser:
    """A signed-in user as the web layer sees them; the services know users only by id.

    Staff here is a superuser, who holds every permission; which permission
    each staff operation needs is tested with real users in
    tests/security/test_staff_permissions.py.
    """

    id: int
    is_staff: bool = False
    is_superuser: bool = False
    is_authenticated: bool = True
    is_active: bool = True

    @property
    def pk(self) -> int:
        return self.id

    def has_perm(self, perm: str, obj=None) -> bool:
        # Django's rule for a user with no permission of their own.
        return self.is_active and self.is_superuser


CUSTOMER, OTHER_CUSTOMER = ApiUser(7), ApiUser(8)
STAFF = ApiUser(1, is_staff=True, is_superuser=True)


def client_for(user: ApiUser | None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def assert_error(response, status: int) -> dict:
    """The response is a ``status`` with the shop's one error body; that body."""
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"message", "extra"}
    assert isinstance(body["message"], str) and body["message"]
    assert isinstance(body["extra"], dict)
    return body


def assert_unauthenticated(response) -> None:
    assert_error(response, 401)
    assert response["WWW-Authenticate"] == "Token"


@pytest.fixture
def customer() -> APIClient:
    return client_for(CUSTOMER)


@pytest.fixture
def other_customer() -> APIClient:
    return client_for(OTHER_CUSTOMER)


@pytest.fixture
def anonymous() -> APIClient:
    return client_for(None)


@pytest.fixture(scope="session")
def schema(tmp_path_factory) -> dict:
    """The OpenAPI schema the project serves, as a dict."""
    path = tmp_path_factory.mktemp("schema") / "schema.json"
    call_command("spectacular", "--format", "openapi-json", "--file", str(path))
    return json.loads(path.read_text())
