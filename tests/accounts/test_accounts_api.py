import uuid
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import MD5PasswordHasher
from django.urls import include, path
from rest_framework.test import APIClient

from accounts.models import OutboxMessage
from accounts.services import REGISTERED, customer_order_apply, inbox_item_record
from accounts.urls import inbox_urlpatterns
from shopsite.testing import recorded

# The same mounts as shopsite.urls, without the other services' pages.
urlpatterns = [
    path("api/accounts/", include("accounts.urls")),
    path("api/notifications/", include(inbox_urlpatterns)),
]

pytestmark = [pytest.mark.urls(__name__), pytest.mark.django_db(databases=["default"])]

PASSWORD = "correct-horse-battery"


@pytest.fixture
def client():
    return APIClient()


def make_user(email="ann@example.com", name="Ann"):
    return get_user_model().objects.create_user(email=email, password=PASSWORD, name=name)


def test_register_creates_a_customer_and_tells_the_other_services(client):
    response = client.post(
        "/api/accounts/register/", {"email": "Ann@Example.COM", "password": PASSWORD, "name": "Ann"}, format="json"
    )

    assert response.status_code == 201
    assert response.json()["email"] == "ann@example.com"
    user = get_user_model().objects.get(email="ann@example.com")
    assert user.check_password(PASSWORD)
    assert recorded(OutboxMessage, "user.registered") == [
        {"user_id": user.id, "email": "ann@example.com", "name": "Ann", "is_staff": False, "role": "customer",
         "is_active": True, "version": 1}
    ]


def test_register_with_an_email_already_taken_whatever_its_case_tells_only_its_owner(client):
    ann = make_user(email="ann@example.com")

    response = client.post(
        "/api/accounts/register/", {"email": "ANN@example.com", "password": PASSWORD, "name": "Other"}, format="json"
    )

    assert response.status_code == 201
    assert response.json() == {"email": "ann@example.com", "message": REGISTERED}
    assert get_user_model().objects.count() == 1
    assert recorded(OutboxMessage) == [{"user_id": ann.id}]
    assert recorded(OutboxMessage, "user.registration_repeated") == [{"user_id": ann.id}]


class CountingHasher(MD5PasswordHasher):
    algorithm = "counting_md5"
    calls = 0

    def encode(self, password, salt):
        CountingHasher.calls += 1
        return super().encode(password, salt)


def test_register_hashes_the_password_for_a_taken_email_as_for_a_new_one(client, settings):
    settings.PASSWORD_HASHERS = [f"{__name__}.CountingHasher"]
    make_user(email="ann@example.com")
    hashes = []
    for email in ("new@example.com", "ann@example.com"):
        CountingHasher.calls = 0
        client.post("/api/accounts/register/", {"email": email, "password": PASSWORD, "name": "N"}, format="json")
        hashes.append(CountingHasher.calls)

    assert hashes[0] >= 1
    assert hashes[1] == hashes[0]  # the slow part of a new account, done for a taken email too


def test_register_refuses_a_weak_password_for_a_taken_email_too(client):
    make_user(email="ann@example.com")

    response = client.post(
        "/api/accounts/register/", {"email": "ann@example.com", "password": "12345678", "name": "Other"}, format="json"
    )

    assert response.status_code == 400
    assert recorded(OutboxMessage) == []


def test_register_refuses_a_weak_password_with_the_reasons(client):
    response = client.post(
        "/api/accounts/register/", {"email": "bob@example.com", "password": "12345678", "name": "Bob"}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["extra"]["password"]
    assert not get_user_model().objects.filter(email="bob@example.com").exists()


def test_register_with_missing_fields_is_a_400(client):
    response = client.post("/api/accounts/register/", {"email": "not-an-email"}, format="json")

    assert response.status_code == 400
    assert set(response.json()["extra"]["fields"]) == {"email", "password", "name"}


def test_token_is_issued_for_the_right_password_and_opens_the_api(client):
    make_user()

    first = client.post("/api/accounts/token/", {"email": "ANN@example.com", "password": PASSWORD}, format="json")
    again = client.post("/api/accounts/token/", {"email": "ann@example.com", "password": PASSWORD}, format="json")

    assert first.status_code == 200
    # Each login has a token of its own (it used to be one per user, for ever).
    assert first.json()["token"] != again.json()["token"]
    client.credentials(HTTP_AUTHORIZATION=f"Token {first.json()['token']}")
    assert client.get("/api/accounts/me/").json()["email"] == "ann@example.com"


def test_token_refuses_a_wrong_password(client):
    make_user()

    response = client.post("/api/accounts/token/", {"email": "ann@example.com", "password": "wrong"}, format="json")

    assert response.status_code == 400
    assert response.json()["message"] == "Unable to log in with the given email and password"
    assert "token" not in response.json()


def test_me_needs_a_signed_in_user(client):
    assert client.get("/api/accounts/me/").status_code in (401, 403)


def test_me_shows_the_profile_with_completed_orders_only(client):
    user = make_user()
    other = make_user(email="bob@example.com", name="Bob")
    customer_order_apply(order_id=uuid.uuid4(), user_id=user.id, status="confirmed", total=Decimal("10.50"))
    customer_order_apply(order_id=uuid.uuid4(), user_id=user.id, status="delivered", total=Decimal("20.00"))
    customer_order_apply(order_id=uuid.uuid4(), user_id=user.id, status="cancelled", total=Decimal("99.00"))
    customer_order_apply(order_id=uuid.uuid4(), user_id=other.id, status="confirmed", total=Decimal("5.00"))
    client.force_authenticate(user)

    response = client.get("/api/accounts/me/")

    assert response.status_code == 200
    assert response.json() == {
        "id": user.id,
        "email": "ann@example.com",
        "name": "Ann",
        "role": "customer",
        "is_staff": False,
        "orders_count": 2,
        "total_spent": "30.50",
    }


def test_me_patch_changes_the_name_but_never_the_role(client):
    user = make_user()
    client.force_authenticate(user)

    response = client.patch("/api/accounts/me/", {"name": "Annie", "role": "staff", "is_staff": True}, format="json")

    assert response.status_code == 200
    assert response.json()["name"] == "Annie"
    user.refresh_from_db()
    assert (user.name, user.role, user.is_staff) == ("Annie", "customer", False)
    assert [m["name"] for m in recorded(OutboxMessage, "user.updated")] == ["Annie"]


def _inbox_item(user, *, subject, minutes_ago):
    return inbox_item_record(
        notification_id=uuid.uuid4(),
        user_id=user.id,
        order_id=uuid.uuid4(),
        kind="order_confirmed",
        subject=subject,
        body="Thanks",
        sent_at=datetime.now(timezone.utc) - timedelta(minutes=minutes_ago),
    )


def test_inbox_lists_only_the_users_own_items_newest_first(client):
    ann, bob = make_user(), make_user(email="bob@example.com", name="Bob")
    _inbox_item(ann, subject="older", minutes_ago=10)
    _inbox_item(ann, subject="newer", minutes_ago=1)
    _inbox_item(bob, subject="bob's", minutes_ago=5)
    client.force_authenticate(ann)

    response = client.get("/api/notifications/")

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert [item["subject"] for item in body["results"]] == ["newer", "older"]
    assert set(body["results"][0]) == {"id", "order_id", "kind", "subject", "body", "sent_at", "read"}
    assert body["results"][0]["read"] is False


def test_inbox_item_can_be_marked_read_by_its_owner_only(client):
    ann, bob = make_user(), make_user(email="bob@example.com", name="Bob")
    item = _inbox_item(ann, subject="yours", minutes_ago=1)

    client.force_authenticate(bob)
    assert client.post(f"/api/notifications/{item.notification_id}/read/").status_code == 404
    item.refresh_from_db()
    assert item.read_at is None

    client.force_authenticate(ann)
    response = client.post(f"/api/notifications/{item.notification_id}/read/")
    assert response.status_code == 200
    assert response.json()["read"] is True
    assert client.get("/api/notifications/").json()["results"][0]["read"] is True
