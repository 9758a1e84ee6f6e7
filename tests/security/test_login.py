"""Web forms need a CSRF token; logins lock after repeated failures; passwords are stored hashed."""

from __future__ import annotations

import re
import uuid

import pytest
from django.conf import settings
from django.contrib.auth.hashers import identify_hasher
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import User

from .conftest import PASSWORD

pytestmark = pytest.mark.django_db(databases="__all__")

TOKEN = "/api/accounts/token/"
LIMIT = settings.AXES_FAILURE_LIMIT


# --- CSRF -----------------------------------------------------------------------


def page_routes(patterns=None, prefix=""):
    """(route, view class) of every page URL: everything but the API, the admin, the probes, the metrics
    (GET only, tests/operations/test_metrics.py) and the uploaded files (read-only, tests/test_media.py)."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(pattern.pattern)
        if route.startswith(("api/", "admin/", "healthz", "readyz", "metrics")) or route.startswith("^media/"):
            continue
        if isinstance(pattern, URLResolver):
            yield from page_routes(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern):
            yield route, pattern.callback.view_class


def filled(route: str, world) -> str:
    """The route as a URL, each id filled in with one that exists."""
    values = {"int": str(world.product_ids[0]), "uuid": str(world.customer.owns["order_id"])}
    url = route
    for converter, value in values.items():
        while f"<{converter}:" in url:
            start = url.index(f"<{converter}:")
            url = url[:start] + value + url[url.index(">", start) + 1:]
    # Plain parts (a password reset link's uid and token) take any text.
    url = re.sub(r"<\w+>", "any", url)
    assert "<" not in url, route
    return "/" + url


def post_pages(world) -> list[str]:
    return [filled(route, world) for route, view in page_routes() if hasattr(view, "post")]


def test_the_walk_finds_every_form(world):
    pages = post_pages(world)

    assert {reverse("accounts-login"), reverse("accounts-register"), reverse("accounts-logout"),
            reverse("cart-add"), reverse("storefront-checkout")} <= set(pages)
    assert len(pages) >= 12


def test_every_page_form_refuses_a_post_without_a_csrf_token(world):
    signed_in = Client(enforce_csrf_checks=True)
    signed_in.force_login(world.customer.user)
    anonymous = Client(enforce_csrf_checks=True)

    for url in [*post_pages(world), reverse("admin:login")]:
        for client in (signed_in, anonymous):
            response = client.post(url, {"quantity": 1, "product_id": world.product_ids[0]})
            assert response.status_code == 403, url
            assert b"CSRF" in response.content, url


def test_the_same_post_with_the_token_gets_through():
    client = Client(enforce_csrf_checks=True)
    client.get(reverse("accounts-login"))

    response = client.post(
        reverse("accounts-login"),
        {"username": "nobody@example.com", "password": "x", "csrfmiddlewaretoken": client.cookies["csrftoken"].value},
    )

    assert response.status_code == 200  # the form again, with its error: the CSRF check passed


# --- lockout: the token API ---------------------------------------------------------------


def token(email: str, password: str, address: str = "203.0.113.7", **headers):
    return APIClient().post(TOKEN, {"email": email, "password": password}, format="json",
                            REMOTE_ADDR=address, **headers)


def fail(times: int, email: str = "casey@example.com", **kwargs) -> list[int]:
    return [token(email, "wrong-password", **kwargs).status_code for _ in range(times)]


def let_the_cooloff_pass() -> None:
    from axes.models import AccessAttempt

    AccessAttempt.objects.update(attempt_time=timezone.now() - settings.AXES_COOLOFF_TIME - timezone.timedelta(seconds=1))


def test_the_api_locks_an_email_after_repeated_failures_even_for_the_right_password(world):
    assert fail(LIMIT) == [400] * (LIMIT - 1) + [429]

    response = token("casey@example.com", PASSWORD)

    assert response.status_code == 429
    body = response.json()
    assert "Too many failed login attempts" in body["message"]
    assert body["extra"] == {"retry_after_seconds": int(settings.AXES_COOLOFF_TIME.total_seconds())}


def test_the_api_lockout_ends_after_the_cooloff(world):
    fail(LIMIT)
    let_the_cooloff_pass()

    response = token("casey@example.com", PASSWORD)

    assert response.status_code == 200
    me = APIClient().get("/api/accounts/me/", HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    assert me.json()["email"] == "casey@example.com"


def test_a_successful_login_clears_the_failures(world):
    fail(LIMIT - 1)
    assert token("casey@example.com", PASSWORD).status_code == 200

    assert fail(LIMIT - 1) == [400] * (LIMIT - 1)
    assert token("casey@example.com", PASSWORD).status_code == 200


def test_the_lockout_is_per_email_and_address_whatever_the_case_or_forwarded_for(world):
    fail(LIMIT - 1, email="CASEY@Example.com", HTTP_X_FORWARDED_FOR="198.51.100.1")
    fail(1, email="casey@example.com", HTTP_X_FORWARDED_FOR="198.51.100.2")

    # Spelling the email differently or claiming another address does not start a new count...
    assert token("Casey@example.com", PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.3").status_code == 429
    # ...but the owner elsewhere, and another account from here, may still log in.
    assert token("casey@example.com", PASSWORD, address="192.0.2.1").status_code == 200
    assert token("olga@example.com", PASSWORD).status_code == 200


def test_behind_a_proxy_each_client_is_counted_by_its_own_address(world, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    via_proxy = dict(address="10.0.0.2")  # every request reaches the shop from the proxy

    assert fail(LIMIT, HTTP_X_FORWARDED_FOR="198.51.100.1", **via_proxy)[-1] == 429

    # The locked-out client stays locked, whatever it puts in front of what the proxy appended...
    assert token("casey@example.com", PASSWORD, HTTP_X_FORWARDED_FOR="192.0.2.66, 198.51.100.1",
                 **via_proxy).status_code == 429
    # ...while the owner, through the same proxy from another address, is not.
    assert token("casey@example.com", PASSWORD, HTTP_X_FORWARDED_FOR="192.0.2.1", **via_proxy).status_code == 200


def test_with_two_proxies_the_address_the_outer_one_saw_counts(world, settings):
    settings.TRUSTED_PROXY_COUNT = 2
    chain = "{client}, 10.0.0.1"  # the outer proxy appended the client, the inner one the outer proxy

    fail(LIMIT, HTTP_X_FORWARDED_FOR=chain.format(client="198.51.100.1"), address="10.0.0.2")

    assert token("casey@example.com", PASSWORD, HTTP_X_FORWARDED_FOR=chain.format(client="198.51.100.1"),
                 address="10.0.0.2").status_code == 429
    assert token("casey@example.com", PASSWORD, HTTP_X_FORWARDED_FOR=chain.format(client="198.51.100.7"),
                 address="10.0.0.2").status_code == 200


# --- lockout: the login page --------------------------------------------------------------


def log_in(client: Client, email: str, password: str):
    return client.post(reverse("accounts-login"), {"username": email, "password": password})


def test_the_login_page_locks_too_and_says_so(world):
    client = Client(REMOTE_ADDR="203.0.113.9")
    statuses = [log_in(client, "casey@example.com", "wrong-password").status_code for _ in range(LIMIT)]

    response = log_in(client, "casey@example.com", PASSWORD)

    assert statuses == [200] * (LIMIT - 1) + [429]
    assert response.status_code == 429
    assert response["Retry-After"] == str(int(settings.AXES_COOLOFF_TIME.total_seconds()))
    assert "Too many failed login attempts" in response.content.decode()
    assert 'name="password"' in response.content.decode()  # the page, not a bare error
    assert "_auth_user_id" not in client.session


def test_the_login_page_lets_the_owner_in_after_the_cooloff(world):
    client = Client(REMOTE_ADDR="203.0.113.9")
    for _ in range(LIMIT):
        log_in(client, "casey@example.com", "wrong-password")
    let_the_cooloff_pass()

    response = log_in(client, "casey@example.com", PASSWORD)

    assert response.status_code == 302
    assert int(client.session["_auth_user_id"]) == world.customer.user.id


def test_failures_on_the_page_and_the_api_add_up(world):
    client = Client(REMOTE_ADDR="203.0.113.7")
    for _ in range(LIMIT - 1):
        log_in(client, "casey@example.com", "wrong-password")

    assert fail(1) == [429]


def test_the_admin_login_locks_with_a_plain_answer(world):
    client = Client(REMOTE_ADDR="203.0.113.5")
    for _ in range(LIMIT):
        client.post(reverse("admin:login"), {"username": "stan@example.com", "password": "wrong-password"})

    response = client.post(reverse("admin:login"), {"username": "stan@example.com", "password": PASSWORD})

    assert response.status_code == 429
    assert "Too many failed login attempts" in response.content.decode()


# --- passwords ----------------------------------------------------------------------------


def test_a_password_is_stored_as_a_hash_never_as_its_text():
    password = f"plain-{uuid.uuid4().hex}"
    response = APIClient().post(
        "/api/accounts/register/", {"email": "new@example.com", "password": password, "name": "Nia"}, format="json"
    )
    assert response.status_code == 201

    stored = User.objects.get(email="new@example.com").password

    assert password not in stored
    assert identify_hasher(stored).algorithm == stored.split("$", 1)[0]
    assert User.objects.get(email="new@example.com").check_password(password)
