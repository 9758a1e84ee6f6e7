import uuid
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from accounts import services
from accounts.models import InboxItem, OutboxMessage
from shopsite.testing import recorded

from .conftest import PASSWORD

pytestmark = pytest.mark.django_db(databases="__all__")


def field_errors(response, field: str) -> list[str]:
    return list(response.context["form"].errors.get(field, []))


def test_the_register_page_has_the_three_fields(client):
    response = client.get(reverse("accounts-register"))

    assert response.status_code == 200
    for field in ("email", "name", "password"):
        assert f'name="{field}"' in response.text


def test_registering_creates_the_account_tells_the_others_and_sends_to_the_login(client):
    response = client.post(
        reverse("accounts-register"), {"email": "New@Example.com", "name": "Nia New", "password": PASSWORD}
    )

    assert response.status_code == 302
    assert response.url == reverse("accounts-login")
    assert get_user_model().objects.filter(email="new@example.com").exists()
    assert recorded(OutboxMessage, "user.registered")[0]["email"] == "new@example.com"
    page = client.get(response.url)
    assert services.REGISTERED in page.text


def test_a_taken_email_looks_the_same_as_a_new_one_and_its_owner_is_told(client, customer):
    new = client.post(reverse("accounts-register"), {"email": "other@example.com", "name": "O", "password": PASSWORD})
    taken = client.post(
        reverse("accounts-register"), {"email": customer.email.upper(), "name": "Copy", "password": PASSWORD}
    )

    assert (taken.status_code, taken.url) == (new.status_code, new.url)
    assert services.REGISTERED in client.get(taken.url).text
    assert get_user_model().objects.filter(email__iexact=customer.email).count() == 1
    assert recorded(OutboxMessage, "user.registration_repeated") == [{"user_id": customer.id}]


def test_a_weak_password_is_shown_next_to_the_password_field(client):
    response = client.post(reverse("accounts-register"), {"email": "a@example.com", "name": "A", "password": "123"})

    assert response.status_code == 200
    assert any("too short" in error for error in field_errors(response, "password"))
    assert 'aria-invalid="true"' in response.text
    assert not get_user_model().objects.exists()


def test_a_missing_name_is_a_field_error(client):
    response = client.post(reverse("accounts-register"), {"email": "a@example.com", "name": "", "password": PASSWORD})

    assert field_errors(response, "name") == ["This field is required."]


def test_login_with_email_and_password_goes_back_where_the_customer_was(client, customer):
    response = client.post(
        reverse("accounts-login"), {"username": "CASEY@example.com", "password": PASSWORD, "next": "/cart/"}
    )

    assert response.status_code == 302
    assert response.url == "/cart/"
    assert int(client.session["_auth_user_id"]) == customer.id


def test_a_wrong_password_says_so_on_the_login_page(client, customer):
    response = client.post(reverse("accounts-login"), {"username": customer.email, "password": "wrong"})

    assert response.status_code == 200
    assert "do not match an account" in response.text
    assert "_auth_user_id" not in client.session


def test_logout_is_a_post(shopper):
    assert shopper.get(reverse("accounts-logout")).status_code == 405

    response = shopper.post(reverse("accounts-logout"))

    assert response.status_code == 302
    assert "_auth_user_id" not in shopper.session


def test_the_profile_shows_the_summary_and_saves_the_name(shopper, customer):
    services.customer_order_apply(order_id=uuid.uuid4(), user_id=customer.id, status="confirmed", total="12.50")
    services.customer_order_apply(order_id=uuid.uuid4(), user_id=customer.id, status="cancelled", total="99.00")

    page = shopper.get(reverse("accounts-profile"))
    assert page.status_code == 200
    assert '<dd id="orders-count">1</dd>' in page.text
    assert '<dd id="total-spent">$12.50</dd>' in page.text

    response = shopper.post(reverse("accounts-profile"), {"name": "Casey C."})
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.name == "Casey C."
    assert recorded(OutboxMessage, "user.updated")[-1]["name"] == "Casey C."


def test_an_empty_name_is_refused_next_to_the_field(shopper, customer):
    response = shopper.post(reverse("accounts-profile"), {"name": ""})

    assert response.status_code == 200
    assert field_errors(response, "name") == ["This field is required."]
    customer.refresh_from_db()
    assert customer.name == "Casey Customer"


def inbox_item(user, subject, *, minutes_ago=0, read=False) -> InboxItem:
    sent = timezone.now() - timedelta(minutes=minutes_ago)
    return InboxItem.objects.create(
        notification_id=uuid.uuid4(), user_id=user.id, order_id=uuid.uuid4(), kind="order_confirmed",
        subject=subject, body="Hello", sent_at=sent, read_at=sent if read else None,
    )


def test_the_inbox_lists_only_my_notifications_newest_first_unread_marked(shopper, customer, stranger):
    inbox_item(customer, "Older and read", minutes_ago=10, read=True)
    inbox_item(customer, "Newest", minutes_ago=1)
    inbox_item(stranger, "Not yours")

    response = shopper.get(reverse("accounts-notifications"))

    assert response.status_code == 200
    items = list(response.context["page"].object_list)
    assert [item.subject for item in items] == ["Newest", "Older and read"]
    assert "Not yours" not in response.text
    assert response.text.count('data-unread="true"') == 1
    assert '<span id="unread-count" class="count" data-count="unread">1</span>' in response.text


def test_marking_one_and_all_read(shopper, customer):
    first, second = inbox_item(customer, "One"), inbox_item(customer, "Two")

    shopper.post(reverse("accounts-notification-read", args=[first.notification_id]))
    first.refresh_from_db(), second.refresh_from_db()
    assert first.read_at is not None and second.read_at is None

    shopper.post(reverse("accounts-notifications-read-all"))
    second.refresh_from_db()
    assert second.read_at is not None


def test_someone_elses_notification_cannot_be_marked(shopper, stranger):
    theirs = inbox_item(stranger, "Theirs")

    response = shopper.post(reverse("accounts-notification-read", args=[theirs.notification_id]))

    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_an_empty_inbox_says_so_and_still_has_its_list(shopper):
    text = shopper.get(reverse("accounts-notifications")).text

    assert '<ul class="inbox" id="inbox">' in text
    assert "Nothing here yet" in text


@pytest.mark.parametrize("name", ["accounts-profile", "accounts-notifications"])
def test_account_pages_send_anonymous_visitors_to_log_in(client, name):
    response = client.get(reverse(name))

    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts-login"))
