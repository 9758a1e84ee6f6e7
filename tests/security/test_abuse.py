"""Abuse limits: bodies no parser should recurse into, names with control characters, blank
passwords, SKUs differing only in case, and rate limits that say when to come back."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from accounts.models import User

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
