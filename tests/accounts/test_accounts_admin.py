import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import path

from accounts.models import ApiToken, OutboxMessage
from shopsite.testing import recorded

urlpatterns = [path("admin/", admin.site.urls)]

pytestmark = [pytest.mark.urls(__name__), pytest.mark.django_db(databases=["default"])]


@pytest.fixture
def staff_client():
    root = get_user_model().objects.create_superuser(email="root@example.com", password="x", name="Root")
    client = Client()
    client.force_login(root)
    return client


def test_admin_adds_a_user_and_announces_it(staff_client):
    response = staff_client.post(
        "/admin/accounts/user/add/",
        {"email": "New@Example.com", "name": "New", "role": "merchant", "usable_password": "true",
         "password1": "correct-horse-battery", "password2": "correct-horse-battery"},
    )

    assert response.status_code == 302, response.content
    user = get_user_model().objects.get(email="new@example.com")
    assert user.check_password("correct-horse-battery")
    assert recorded(OutboxMessage, "user.registered")[-1]["role"] == "merchant"


def test_admin_staff_change_is_announced(staff_client):
    user = get_user_model().objects.create_user(email="ann@example.com", password="x", name="Ann")

    response = staff_client.post(
        f"/admin/accounts/user/{user.pk}/change/",
        {"email": "ann@example.com", "name": "Ann", "role": "staff", "is_active": "on", "is_staff": "on",
         "date_joined_0": "2025-01-01", "date_joined_1": "00:00:00"},
    )

    assert response.status_code == 302, response.content
    assert recorded(OutboxMessage, "user.updated") == [
        {"user_id": user.id, "email": "ann@example.com", "name": "Ann", "is_staff": True, "role": "staff",
         "is_active": True, "version": 1}
    ]


def test_admin_lists_and_searches_users(staff_client):
    get_user_model().objects.create_user(email="ann@example.com", password="x", name="Ann")

    response = staff_client.get("/admin/accounts/user/", {"q": "ann"})

    assert response.status_code == 200
    assert b"ann@example.com" in response.content


def test_a_password_set_by_staff_revokes_the_users_api_tokens(staff_client):
    user = get_user_model().objects.create_user(email="ann@example.com", password="x", name="Ann")
    ApiToken.issue(user=user)

    response = staff_client.post(
        f"/admin/accounts/user/{user.pk}/password/",
        {"usable_password": "true", "password1": "correct-horse-battery", "password2": "correct-horse-battery"},
    )

    assert response.status_code == 302, response.content
    user.refresh_from_db()
    assert user.check_password("correct-horse-battery")
    assert not ApiToken.objects.filter(user=user).exists()


def test_admin_refuses_a_name_with_a_line_break(staff_client):
    response = staff_client.post(
        "/admin/accounts/user/add/",
        {"email": "crlf@example.com", "name": "Eve\r\nX", "role": "customer", "usable_password": "true",
         "password1": "correct-horse-battery", "password2": "correct-horse-battery"},
    )

    assert response.status_code == 200
    assert "name" in response.context["adminform"].form.errors
    assert not get_user_model().objects.filter(email="crlf@example.com").exists()


def test_staff_see_a_users_tokens_and_revoke_one(staff_client):
    user = get_user_model().objects.create_user(email="tok@example.com", password="x", name="Tok")
    token, key = ApiToken.issue(user=user)

    listed = staff_client.get("/admin/accounts/apitoken/", {"q": "tok@"})
    revoked = staff_client.post(f"/admin/accounts/apitoken/{token.pk}/delete/", {"post": "yes"})

    assert listed.status_code == 200 and b"tok@example.com" in listed.content
    assert key.encode() not in listed.content
    assert revoked.status_code == 302
    assert not ApiToken.objects.filter(pk=token.pk).exists()  # a revoked token is a deleted one
