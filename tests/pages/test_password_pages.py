"""Password change, password reset by email, and "log out everywhere": each ends the old tokens and sessions."""

import re

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts.models import ApiToken

from .conftest import PASSWORD

pytestmark = pytest.mark.django_db(databases="__all__")

NEW_PASSWORD = "a-brand-new-password"


def token_of(user) -> str:
    return ApiToken.issue(user=user)[1]


def opens_the_api(token: str) -> bool:
    return Client().get("/api/accounts/me/", HTTP_AUTHORIZATION=f"Token {token}").status_code == 200


def signed_in(client) -> bool:
    return client.get(reverse("accounts-profile")).status_code == 200


def another_browser(user) -> Client:
    browser = Client()
    browser.force_login(user)
    return browser


def test_the_profile_offers_a_password_change_and_logging_out_everywhere(shopper):
    page = shopper.get(reverse("accounts-profile")).text

    assert f'href="{reverse("accounts-password-change")}"' in page
    assert f'action="{reverse("accounts-logout-everywhere")}"' in page


def test_the_login_page_links_to_the_password_reset(client):
    assert f'href="{reverse("accounts-password-reset")}"' in client.get(reverse("accounts-login")).text


def test_changing_the_password_keeps_this_session_and_ends_every_other_and_every_token(shopper, customer):
    token, elsewhere = token_of(customer), another_browser(customer)

    response = shopper.post(
        reverse("accounts-password-change"),
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        follow=True,
    )

    assert response.redirect_chain == [(reverse("accounts-profile"), 302)]
    assert "Your password is changed" in response.text
    assert signed_in(shopper)
    assert not signed_in(elsewhere)
    assert not opens_the_api(token)
    customer.refresh_from_db()
    assert customer.check_password(NEW_PASSWORD)


def test_a_wrong_old_password_is_shown_and_changes_nothing(shopper, customer):
    token = token_of(customer)

    response = shopper.post(
        reverse("accounts-password-change"),
        {"old_password": "wrong", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert response.status_code == 200
    assert response.context["form"].errors["old_password"]
    assert opens_the_api(token)


def test_the_password_change_page_needs_a_login(client):
    response = client.get(reverse("accounts-password-change"))

    assert response.status_code == 302 and response.url.startswith(reverse("accounts-login"))


def test_logging_out_everywhere_ends_every_session_and_token(shopper, customer):
    token, elsewhere = token_of(customer), another_browser(customer)

    response = shopper.post(reverse("accounts-logout-everywhere"), follow=True)

    assert response.redirect_chain == [(reverse("accounts-login"), 302)]
    assert "logged out on every device" in response.text
    assert not signed_in(shopper) and not signed_in(elsewhere)
    assert not opens_the_api(token)
    assert ApiToken.objects.filter(user=customer).count() == 0


def reset_link() -> str:
    assert len(mail.outbox) == 1
    return re.search(r"http://testserver(/\S+)", mail.outbox[0].body).group(1)


def test_a_password_reset_by_email_from_start_to_end(client, customer):
    token, elsewhere = token_of(customer), another_browser(customer)

    sent = client.post(reverse("accounts-password-reset"), {"email": "CASEY@example.com"}, follow=True)

    assert sent.redirect_chain == [(reverse("accounts-password-reset-sent"), 302)]
    assert "Check your email" in sent.text
    assert mail.outbox[0].to == ["casey@example.com"]
    assert mail.outbox[0].subject == "Reset your password at Shop"
    # Django swaps the link's token for one in the session before showing the form.
    form = client.get(reset_link(), follow=True)
    assert "Choose a new password" in form.text
    done = client.post(
        form.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}, follow=True
    )
    assert done.redirect_chain == [(reverse("accounts-password-reset-complete"), 302)]
    assert "Your new password is saved" in done.text
    assert not opens_the_api(token)
    assert not signed_in(elsewhere)
    logged_in = Client().post(reverse("accounts-login"), {"username": customer.email, "password": NEW_PASSWORD})
    assert logged_in.status_code == 302


def test_a_reset_link_works_once(client, customer):
    client.post(reverse("accounts-password-reset"), {"email": customer.email})
    link = reset_link()
    form_url = client.get(link, follow=True).redirect_chain[-1][0]
    client.post(form_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})

    again = Client().get(link, follow=True)

    assert "This link no longer works" in again.text
    assert "new_password1" not in again.text


def test_a_reset_for_an_unknown_email_sends_nothing_and_says_the_same(client):
    response = client.post(reverse("accounts-password-reset"), {"email": "nobody@example.com"})

    assert response.status_code == 302 and response.url == reverse("accounts-password-reset-sent")
    assert mail.outbox == []


def test_a_reset_refuses_a_weak_password_with_the_reason(client, customer):
    client.post(reverse("accounts-password-reset"), {"email": customer.email})
    form_url = client.get(reset_link(), follow=True).redirect_chain[-1][0]

    response = client.post(form_url, {"new_password1": "123", "new_password2": "123"})

    assert response.status_code == 200
    assert any("too short" in error for error in response.context["form"].errors["new_password2"])
    customer.refresh_from_db()
    assert customer.check_password(PASSWORD)
