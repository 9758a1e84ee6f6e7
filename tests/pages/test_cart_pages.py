from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from cart import selectors, services
from cart.models import CartLine

pytestmark = pytest.mark.django_db(databases="__all__")


def flash(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def cart_of(user) -> dict[int, int]:
    return {line.product_id: line.quantity for line in selectors.cart_get(user_id=user.id).lines}


def test_adding_to_the_cart_goes_back_with_a_success_message(shopper, customer, make_product):
    mug = make_product(name="Mug")
    page = reverse("catalog-product-detail", args=[mug.id])

    response = shopper.post(reverse("cart-add"), {"product_id": mug.id, "quantity": 2, "next": page})

    assert response.status_code == 302
    assert response.url == page
    assert flash(response) == ["Added 2 × Mug to your cart."]
    assert cart_of(customer) == {mug.id: 2}


def test_adding_more_than_is_left_says_why(shopper, customer, make_product):
    mug = make_product(name="Mug", stock=1)

    response = shopper.post(reverse("cart-add"), {"product_id": mug.id, "quantity": 3})

    assert flash(response) == ["Only 1 left of Mug."]
    assert cart_of(customer) == {}


@pytest.mark.parametrize("quantity", ["0", "abc", "101"])
def test_a_bad_quantity_is_a_message_not_an_error_page(shopper, customer, make_product, quantity):
    mug = make_product()

    response = shopper.post(reverse("cart-add"), {"product_id": mug.id, "quantity": quantity})

    assert response.status_code == 302
    assert flash(response)[0].startswith("Quantity:")
    assert cart_of(customer) == {}


def test_an_unknown_product_is_a_message(shopper):
    response = shopper.post(reverse("cart-add"), {"product_id": 12345, "quantity": 1})

    assert flash(response) == ["Unknown product"]


def test_an_offsite_next_is_not_followed(shopper, make_product):
    mug = make_product()

    response = shopper.post(reverse("cart-add"), {"product_id": mug.id, "quantity": 1, "next": "https://evil.test/"})

    assert response.url == reverse("cart-detail")


def test_anonymous_shoppers_are_sent_to_log_in_and_back(client, make_product):
    mug = make_product()
    page = reverse("catalog-product-detail", args=[mug.id])

    response = client.post(reverse("cart-add"), {"product_id": mug.id, "quantity": 1, "next": page})

    assert response.status_code == 302
    assert response.url == f"{reverse('accounts-login')}?next={page}"
    assert CartLine.objects.count() == 0


def test_the_cart_page_shows_lines_totals_and_the_count(shopper, customer, make_product):
    mug, tee = make_product(name="Mug", price="9.50"), make_product(name="Tee", price="20.00")
    services.cart_item_add(user_id=customer.id, product_id=mug.id, quantity=2)
    services.cart_item_add(user_id=customer.id, product_id=tee.id, quantity=1)

    response = shopper.get(reverse("cart-detail"))

    assert response.status_code == 200
    assert response.context["cart"].total == Decimal("39.00")
    assert '<dd id="cart-total">$39.00</dd>' in response.text
    assert "$19.00" in response.text  # the mug's line
    assert '<span id="cart-count" class="count" data-count="cart">3</span>' in response.text
    assert f'href="{reverse("storefront-checkout")}"' in response.text


def test_catalog_changes_show_up_as_notices_until_dismissed(shopper, customer, make_product):
    mug = make_product(name="Mug", price="9.50", stock=5)
    services.cart_item_add(user_id=customer.id, product_id=mug.id, quantity=4)
    services.product_replica_apply(product_id=mug.id, sku=mug.sku, name="Mug", price=Decimal("11.00"),
                                   is_active=True, available=2, version=mug.version + 1)

    response = shopper.get(reverse("cart-detail"))
    assert 'id="cart-notices"' in response.text
    assert "Only 2 left of Mug." in response.text

    shopper.post(reverse("cart-notices-clear"))
    assert 'id="cart-notices"' not in shopper.get(reverse("cart-detail")).text


def test_updating_and_removing_lines(shopper, customer, make_product):
    mug, tee = make_product(name="Mug"), make_product(name="Tee")
    services.cart_item_add(user_id=customer.id, product_id=mug.id, quantity=1)
    services.cart_item_add(user_id=customer.id, product_id=tee.id, quantity=1)

    response = shopper.post(reverse("cart-item-update", args=[mug.id]), {"quantity": 3})
    assert flash(response) == ["Mug: quantity set to 3."]
    assert cart_of(customer) == {mug.id: 3, tee.id: 1}

    shopper.post(reverse("cart-item-update", args=[tee.id]), {"quantity": 0})
    assert cart_of(customer) == {mug.id: 3}

    response = shopper.post(reverse("cart-item-remove", args=[mug.id]))
    assert flash(response)[-1] == "Removed Mug from your cart."
    assert cart_of(customer) == {}


def test_updating_beyond_stock_keeps_the_line_and_says_why(shopper, customer, make_product):
    mug = make_product(name="Mug", stock=2)
    services.cart_item_add(user_id=customer.id, product_id=mug.id, quantity=1)

    response = shopper.post(reverse("cart-item-update", args=[mug.id]), {"quantity": 5})

    assert flash(response) == ["Only 2 left of Mug."]
    assert cart_of(customer) == {mug.id: 1}


def test_a_line_not_in_my_cart_cannot_be_removed(shopper, stranger, make_product):
    mug = make_product()
    services.cart_item_add(user_id=stranger.id, product_id=mug.id, quantity=1)

    response = shopper.post(reverse("cart-item-remove", args=[mug.id]))

    assert flash(response) == ["This product is not in your cart."]
    assert cart_of(stranger) == {mug.id: 1}


def test_the_cart_needs_a_login(client):
    for response in (client.get(reverse("cart-detail")), client.post(reverse("cart-item-remove", args=[1]))):
        assert response.status_code == 302
        assert response.url.startswith(reverse("accounts-login"))


def test_forms_are_csrf_protected(customer, make_product):
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    browser.force_login(customer)
    mug = make_product()

    response = browser.post(reverse("cart-add"), {"product_id": mug.id, "quantity": 1})

    assert response.status_code == 403
    assert cart_of(customer) == {}
