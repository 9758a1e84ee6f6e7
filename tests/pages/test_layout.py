import uuid

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import InboxItem
from cart import services as cart_services

pytestmark = pytest.mark.django_db(databases="__all__")


def test_anonymous_visitors_see_log_in_and_register(client):
    text = client.get(reverse("catalog-home")).text

    assert f'href="{reverse("accounts-register")}"' in text
    assert reverse("accounts-login") in text
    assert '<span id="cart-count" class="count count--zero" data-count="cart">0</span>' in text
    assert "Log out" not in text


def test_the_layout_counts_cart_items_and_unread_notifications(shopper, customer, stranger, make_product):
    mug = make_product()
    cart_services.cart_item_add(user_id=customer.id, product_id=mug.id, quantity=3)
    cart_services.cart_item_add(user_id=stranger.id, product_id=mug.id, quantity=1)
    for user, read_at in ((customer, None), (customer, None), (customer, timezone.now()), (stranger, None)):
        InboxItem.objects.create(notification_id=uuid.uuid4(), user_id=user.id, kind="order_confirmed",
                                 subject="Hi", body="", sent_at=timezone.now(), read_at=read_at)

    text = shopper.get(reverse("catalog-home")).text

    assert '<span id="cart-count" class="count" data-count="cart">3</span>' in text
    assert '<span id="unread-count" class="count" data-count="unread">2</span>' in text
    for name in ("accounts-profile", "orders-list", "accounts-notifications", "accounts-logout"):
        assert f'href="{reverse(name)}"' in text or f'action="{reverse(name)}"' in text


def test_the_assets_are_served_by_the_project(client):
    page = client.get(reverse("catalog-home")).text
    assert '<link rel="stylesheet" href="/static/shop/shop.css">' in page
    assert '<script src="/static/shop/shop.js" defer></script>' in page
    for asset in ("shop/shop.css", "shop/shop.js", "shop/favicon.svg"):
        response = client.get(f"/static/{asset}")
        assert response.status_code == 200, asset


def test_the_log_in_link_brings_visitors_back_but_never_to_the_login_page(client):
    assert f'href="{reverse("accounts-login")}?next=/%3Fq%3Dmug"' in client.get("/?q=mug").text
    login_page = client.get(reverse("accounts-login")).text
    assert f'href="{reverse("accounts-login")}"' in login_page
    assert "?next=/accounts/login/" not in login_page
