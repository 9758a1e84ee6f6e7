"""API tokens: each login its own, expiring, and ended by logout, "log out everywhere" and a new password."""

import io
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django.urls import include, path
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import ApiToken, api_token_digest

urlpatterns = [path("api/accounts/", include("accounts.urls"))]

pytestmark = [pytest.mark.urls(__name__), pytest.mark.django_db(databases=["default"])]

PASSWORD = "correct-horse-battery"
NEW_PASSWORD = "a-brand-new-password"
TOKEN, ME = "/api/accounts/token/", "/api/accounts/me/"
LOGOUT, EVERYWHERE, PASSWORD_URL = "/api/accounts/logout/", "/api/accounts/logout-everywhere/", "/api/accounts/password/"


@pytest.fixture
def ann():
    return get_user_model().objects.create_user(email="ann@example.com", password=PASSWORD, name="Ann")


def log_in(password=PASSWORD) -> str:
    response = APIClient().post(TOKEN, {"email": "ann@example.com", "password": password}, format="json")
    assert response.status_code == 200, response.content
    return response.json()["token"]


def api(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def opens_the_api(token: str) -> bool:
    status = api(token).get(ME).status_code
    assert status in (200, 401)
    return status == 200


def test_each_login_gets_a_new_token_and_both_work(ann):
    first, second = log_in(), log_in()

    assert first != second
    assert opens_the_api(first) and opens_the_api(second)


def test_only_a_digest_of_the_token_is_stored(ann):
    token = log_in()

    stored = ApiToken.objects.get(user=ann)
    assert stored.digest == api_token_digest(token) != token


def test_logout_revokes_this_token_only(ann):
    mine, other_device = log_in(), log_in()

    response = api(mine).post(LOGOUT)

    assert response.status_code == 204
    assert not opens_the_api(mine)
    assert opens_the_api(other_device)
    assert api(mine).get(ME).json()["message"] == "Invalid or expired token: log in again for a new one."


def test_logout_everywhere_revokes_every_token_and_session(ann):
    mine, other_device = log_in(), log_in()
    browser = Client()
    browser.force_login(ann)
    assert browser.get(ME).status_code == 200

    assert api(mine).post(EVERYWHERE).status_code == 204

    assert not opens_the_api(mine) and not opens_the_api(other_device)
    assert browser.get(ME).status_code == 401
    assert opens_the_api(log_in())


def test_a_token_expires_after_its_lifetime(ann, settings):
    settings.API_TOKEN_TTL = timedelta(hours=2)
    fresh, old = log_in(), log_in()
    ApiToken.objects.filter(digest=api_token_digest(old)).update(
        created_at=timezone.now() - timedelta(hours=2, seconds=1)
    )

    assert opens_the_api(fresh)
    assert not opens_the_api(old)


def test_the_lifetime_comes_from_the_setting_and_is_told_to_the_client(ann, settings):
    settings.API_TOKEN_TTL = timedelta(minutes=30)
    before = timezone.now()

    response = APIClient().post(TOKEN, {"email": "ann@example.com", "password": PASSWORD}, format="json")

    expires_at = ApiToken.objects.get(user=ann).expires_at
    assert timedelta(minutes=30) <= expires_at - before < timedelta(minutes=31)
    assert response.json()["expires_at"] == expires_at.isoformat().replace("+00:00", "Z")


def test_a_login_clears_away_the_users_expired_tokens(ann):
    old = log_in()
    ApiToken.objects.update(created_at=timezone.now() - timedelta(days=365))

    log_in()

    assert not ApiToken.objects.filter(digest=api_token_digest(old)).exists()
    assert ApiToken.objects.count() == 1


def test_changing_the_password_revokes_every_token_and_needs_the_old_one(ann):
    mine, other_device = log_in(), log_in()

    response = api(mine).post(PASSWORD_URL, {"old_password": PASSWORD, "new_password": NEW_PASSWORD}, format="json")

    assert response.status_code == 204
    assert not opens_the_api(mine) and not opens_the_api(other_device)
    assert opens_the_api(log_in(NEW_PASSWORD))


def test_an_operators_changepassword_command_revokes_every_token(ann, monkeypatch):
    # Django's own command sets the password on the model directly, past the accounts service.
    stolen = log_in()
    monkeypatch.setattr("django.contrib.auth.management.commands.changepassword.getpass.getpass",
                        lambda prompt="": NEW_PASSWORD)

    call_command("changepassword", "ann@example.com", stdout=io.StringIO())

    assert not opens_the_api(stolen)
    assert opens_the_api(log_in(NEW_PASSWORD))


def test_saving_a_user_without_a_new_password_keeps_their_tokens(ann):
    token = log_in()
    ann.refresh_from_db()
    ann.name = "Ann B."
    ann.save()

    assert opens_the_api(token)


def test_changing_the_password_with_a_session_keeps_that_session_and_ends_the_others(ann):
    here, elsewhere = Client(), Client()
    here.force_login(ann)
    elsewhere.force_login(ann)

    response = here.post(PASSWORD_URL, {"old_password": PASSWORD, "new_password": NEW_PASSWORD}, "application/json")

    assert response.status_code == 204
    assert here.get(ME).status_code == 200
    assert elsewhere.get(ME).status_code == 401


@pytest.mark.parametrize(
    "body, field",
    [
        ({"old_password": "wrong", "new_password": NEW_PASSWORD}, "old_password"),
        ({"old_password": PASSWORD, "new_password": "123"}, "password"),
    ],
)
def test_a_refused_password_change_is_a_400_and_changes_nothing(ann, body, field):
    token = log_in()

    response = api(token).post(PASSWORD_URL, body, format="json")

    assert response.status_code == 400
    assert field in response.json()["extra"]
    assert opens_the_api(token)
    ann.refresh_from_db()
    assert ann.check_password(PASSWORD)


@pytest.mark.parametrize("url", [LOGOUT, EVERYWHERE, PASSWORD_URL])
def test_the_token_endpoints_need_a_signed_in_user(url):
    assert APIClient().post(url, {}, format="json").status_code == 401
