import uuid
from datetime import datetime, timedelta, timezone

import pytest
from django.contrib.auth import get_user_model

from accounts.models import ApiToken
from accounts.services import REGISTERED, inbox_item_record, inbox_mark_read

from .conftest import assert_error, assert_unauthenticated, client_for

pytestmark = pytest.mark.django_db(databases=["default"])

REGISTER, TOKEN, ME, INBOX = "/api/accounts/register/", "/api/accounts/token/", "/api/accounts/me/", "/api/notifications/"
PASSWORD = "correct-horse-battery"


def make_user(email="ann@example.com", name="Ann"):
    return get_user_model().objects.create_user(email=email, password=PASSWORD, name=name)


@pytest.fixture
def ann():
    return make_user()


@pytest.fixture
def bob():
    return make_user(email="bob@example.com", name="Bob")


def inbox_item(user, *, kind="order_confirmed", minutes_ago=1):
    return inbox_item_record(
        notification_id=uuid.uuid4(), user_id=user.id, order_id=uuid.uuid4(), kind=kind, subject=kind,
        body="Hello", sent_at=datetime.now(timezone.utc) - timedelta(minutes=minutes_ago),
    )


# --- register -------------------------------------------------------------------


def test_register(anonymous):
    response = anonymous.post(REGISTER, {"email": "new@example.com", "password": PASSWORD, "name": "New"}, format="json")

    assert response.status_code == 201
    assert response.json() == {"email": "new@example.com", "message": REGISTERED}
    assert get_user_model().objects.get(email="new@example.com").name == "New"


def test_register_names_every_invalid_field(anonymous):
    body = assert_error(anonymous.post(REGISTER, {"email": "nope", "name": ""}, format="json"), 400)

    assert body["message"] == "Validation error"
    assert set(body["extra"]["fields"]) == {"email", "password", "name"}
    assert not get_user_model().objects.exists()


def test_register_answers_a_taken_email_as_a_new_one_and_changes_nothing(anonymous, ann):
    new = anonymous.post(REGISTER, {"email": "new@example.com", "password": PASSWORD, "name": "New"}, format="json")
    taken = anonymous.post(REGISTER, {"email": ann.email.upper(), "password": PASSWORD, "name": "Again"}, format="json")

    assert (taken.status_code, taken.json()) == (new.status_code, {**new.json(), "email": ann.email})
    assert get_user_model().objects.get(email=ann.email).name == ann.name


def test_register_is_post_only(anonymous):
    assert_error(anonymous.get(REGISTER), 405)


# --- token ------------------------------------------------------------------------


def test_token(anonymous, ann):
    response = anonymous.post(TOKEN, {"email": ann.email, "password": PASSWORD}, format="json")

    assert response.status_code == 200
    token = ApiToken.objects.get(user=ann)
    assert set(response.json()) == {"token", "expires_at"}
    assert response.json()["expires_at"] == token.expires_at.isoformat().replace("+00:00", "Z")


def test_token_refuses_a_wrong_password_without_a_token(anonymous, ann):
    body = assert_error(anonymous.post(TOKEN, {"email": ann.email, "password": "wrong"}, format="json"), 400)

    assert body["message"] == "Unable to log in with the given email and password"
    assert not ApiToken.objects.exists()


def test_token_needs_both_fields(anonymous):
    body = assert_error(anonymous.post(TOKEN, {}, format="json"), 400)

    assert set(body["extra"]["fields"]) == {"email", "password"}


def test_a_token_signs_the_client_in(anonymous, ann):
    token = anonymous.post(TOKEN, {"email": ann.email, "password": PASSWORD}, format="json").json()["token"]
    anonymous.credentials(HTTP_AUTHORIZATION=f"Token {token}")

    assert anonymous.get(ME).json()["id"] == ann.id


def test_a_bad_token_is_a_401(anonymous):
    anonymous.credentials(HTTP_AUTHORIZATION="Token not-a-token")

    assert_unauthenticated(anonymous.get(ME))


# --- me ---------------------------------------------------------------------------


def test_me(ann):
    response = client_for(ann).get(ME)

    assert response.status_code == 200
    assert response.json() == {
        "id": ann.id, "email": "ann@example.com", "name": "Ann", "role": "customer", "is_staff": False,
        "orders_count": 0, "total_spent": "0.00",
    }


def test_me_needs_a_signed_in_user(anonymous):
    assert_unauthenticated(anonymous.get(ME))
    assert_unauthenticated(anonymous.patch(ME, {"name": "X"}, format="json"))


def test_me_patch_changes_name_and_email(ann):
    response = client_for(ann).patch(ME, {"name": "Annie", "email": "Annie@Example.com"}, format="json")

    assert response.status_code == 200
    assert (response.json()["name"], response.json()["email"]) == ("Annie", "annie@example.com")
    ann.refresh_from_db()
    assert (ann.name, ann.email) == ("Annie", "annie@example.com")


@pytest.mark.parametrize("body, field", [({"email": "not-an-email"}, "email"), ({"name": ""}, "name")])
def test_me_patch_refuses_invalid_fields(ann, body, field):
    response = client_for(ann).patch(ME, body, format="json")

    assert field in assert_error(response, 400)["extra"]["fields"]
    ann.refresh_from_db()
    assert (ann.name, ann.email) == ("Ann", "ann@example.com")


def test_me_patch_refuses_someone_elses_email(ann, bob):
    response = client_for(ann).patch(ME, {"email": bob.email}, format="json")

    assert assert_error(response, 400)["message"] == "An account with this email already exists"


# --- the notification inbox --------------------------------------------------------


def test_inbox_lists_the_users_own_items_page_by_page(ann, bob):
    mine = [inbox_item(ann, minutes_ago=n) for n in range(22)]
    inbox_item(bob)

    first = client_for(ann).get(INBOX).json()
    second = client_for(ann).get(INBOX, {"page": 2}).json()

    assert first["count"] == 22 and first["previous"] is None and first["next"].endswith("page=2")
    assert [item["id"] for item in first["results"] + second["results"]] == [str(i.notification_id) for i in mine]


def test_inbox_filters_by_unread_and_kind(ann):
    read = inbox_item(ann, kind="order_confirmed", minutes_ago=3)
    inbox_mark_read(user_id=ann.id, notification_id=read.notification_id)
    shipped = inbox_item(ann, kind="order_shipped", minutes_ago=2)
    confirmed = inbox_item(ann, kind="order_confirmed", minutes_ago=1)
    client = client_for(ann)

    def ids(**params):
        return [item["id"] for item in client.get(INBOX, params).json()["results"]]

    assert ids(unread="true") == [str(confirmed.notification_id), str(shipped.notification_id)]
    assert ids(unread="false") == [str(read.notification_id)]
    assert ids(kind="order_shipped") == [str(shipped.notification_id)]
    assert ids(kind="order_confirmed", unread="true") == [str(confirmed.notification_id)]


@pytest.mark.parametrize("params, field", [({"unread": "maybe"}, "unread"), ({"kind": "Order Shipped!"}, "kind")])
def test_inbox_refuses_bad_filters(ann, params, field):
    body = assert_error(client_for(ann).get(INBOX, params), 400)

    assert list(body["extra"]["fields"]) == [field]


def test_inbox_needs_a_signed_in_user(anonymous):
    assert_unauthenticated(anonymous.get(INBOX))


def test_mark_read(ann):
    item = inbox_item(ann)

    response = client_for(ann).post(f"{INBOX}{item.notification_id}/read/")

    assert response.status_code == 200
    assert response.json()["read"] is True
    item.refresh_from_db()
    assert item.read_at is not None


def test_mark_read_of_someone_elses_item_is_a_404(ann, bob):
    item = inbox_item(bob)

    assert assert_error(client_for(ann).post(f"{INBOX}{item.notification_id}/read/"), 404)["message"] == (
        "Unknown notification"
    )
    item.refresh_from_db()
    assert item.read_at is None


def test_mark_read_needs_a_signed_in_user_and_a_post(anonymous, ann):
    item = inbox_item(ann)

    assert_unauthenticated(anonymous.post(f"{INBOX}{item.notification_id}/read/"))
    assert_error(client_for(ann).get(f"{INBOX}{item.notification_id}/read/"), 405)


def test_mark_all_read_marks_only_the_users_own(ann, bob):
    inbox_item(ann), inbox_item(ann)
    theirs = inbox_item(bob)

    response = client_for(ann).post(f"{INBOX}read/")

    assert response.json() == {"marked": 2}
    assert client_for(ann).get(INBOX, {"unread": "true"}).json()["count"] == 0
    assert client_for(ann).post(f"{INBOX}read/").json() == {"marked": 0}
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_mark_all_read_needs_a_signed_in_user_and_a_post(anonymous, ann):
    inbox_item(ann)

    assert_unauthenticated(anonymous.post(f"{INBOX}read/"))
    assert_error(client_for(ann).get(f"{INBOX}read/"), 405)
    assert client_for(ann).get(INBOX, {"unread": "true"}).json()["count"] == 1
