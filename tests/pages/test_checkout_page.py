import re
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from cart import services as cart_services
from cart.models import Checkout
from cart.models import OutboxMessage as CartOutbox
from payments.models import PaymentMethod
from shopsite.testing import ADDRESS, recorded

pytestmark = pytest.mark.django_db(databases="__all__")

GOOD_CARD = "4242 4242 4242 4242"


@pytest.fixture
def filled_cart(customer, make_product):
    mug = make_product(name="Mug", price="9.50")
    cart_services.cart_item_add(user_id=customer.id, product_id=mug.id, quantity=2)
    return mug


def form_data(key: str, **overrides) -> dict:
    return {
        "idempotency_key": key,
        **{f"shipping-{field}": value for field, value in ADDRESS.items()},
        "card_number": GOOD_CARD,
        "exp_month": "12",
        "exp_year": str(date.today().year + 2),
        "cvc": "123",
        **overrides,
    }


def hidden_key(response) -> str:
    return re.search(r'name="idempotency_key" value="([^"]+)"', response.text).group(1)


def test_the_checkout_page_shows_the_cart_and_a_fresh_key(shopper, filled_cart):
    first, second = shopper.get(reverse("storefront-checkout")), shopper.get(reverse("storefront-checkout"))

    assert first.status_code == 200
    assert "Mug" in first.text and '<dd id="checkout-total">$19.00</dd>' in first.text
    assert ">Place order</button>" in first.text
    assert hidden_key(first) != hidden_key(second)


def test_a_valid_card_checks_out_the_cart_and_shows_the_order(shopper, customer, filled_cart):
    key = hidden_key(shopper.get(reverse("storefront-checkout")))

    response = shopper.post(reverse("storefront-checkout"), form_data(key))

    checkout = Checkout.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("orders-detail", args=[checkout.order_id])
    [message] = recorded(CartOutbox, "cart.checked_out")
    method = PaymentMethod.objects.get()
    assert message["order_id"] == str(checkout.order_id)
    assert message["user_id"] == customer.id
    assert message["total"] == "19.00"
    assert message["payment_method_id"] == str(method.id)
    assert message["shipping_address"] == {**ADDRESS, "line2": ""}
    assert method.last4 == "4242"


def test_submitting_the_same_form_twice_places_one_order(shopper, filled_cart):
    key = hidden_key(shopper.get(reverse("storefront-checkout")))

    first = shopper.post(reverse("storefront-checkout"), form_data(key))
    second = shopper.post(reverse("storefront-checkout"), form_data(key))

    assert first.url == second.url
    assert Checkout.objects.count() == 1
    assert len(recorded(CartOutbox, "cart.checked_out")) == 1
    # The second submission never reached the card gateway.
    assert PaymentMethod.objects.count() == 1


def test_a_second_tab_finds_the_cart_already_checked_out(shopper, filled_cart):
    first_tab, second_tab = (hidden_key(shopper.get(reverse("storefront-checkout"))) for _ in range(2))
    shopper.post(reverse("storefront-checkout"), form_data(first_tab))

    response = shopper.post(reverse("storefront-checkout"), form_data(second_tab))

    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == ["Your cart is empty"]
    assert Checkout.objects.count() == 1 and len(recorded(CartOutbox, "cart.checked_out")) == 1
    assert PaymentMethod.objects.count() == 1  # the second card never went to the gateway


def test_the_cart_is_empty_after_a_checkout_and_a_second_order_may_follow_at_once(shopper, customer, filled_cart):
    shopper.post(reverse("storefront-checkout"), form_data(hidden_key(shopper.get(reverse("storefront-checkout")))))

    assert "Your cart is empty" in shopper.get(reverse("cart-detail")).text
    cart_services.cart_item_add(user_id=customer.id, product_id=filled_cart.id, quantity=1)
    response = shopper.post(reverse("storefront-checkout"),
                            form_data(hidden_key(shopper.get(reverse("storefront-checkout")))))

    first, second = Checkout.objects.order_by("created_at")
    assert response.status_code == 302 and response.url == reverse("orders-detail", args=[second.order_id])
    assert (first.total, second.total) == (Decimal("19.00"), Decimal("9.50"))


def test_an_invalid_card_is_shown_next_to_the_card_field_and_creates_nothing(shopper, filled_cart):
    key = hidden_key(shopper.get(reverse("storefront-checkout")))

    response = shopper.post(reverse("storefront-checkout"), form_data(key, card_number="4242 4242 4242 4241"))

    assert response.status_code == 200
    assert response.context["form"].errors["card_number"] == ["Your card number is invalid"]
    assert 'id="id_card_number_error"' in response.text
    assert "4242 4242 4242 4241" not in response.text and "4242424242424241" not in response.text
    assert 'name="cvc"' in response.text and 'value="123"' not in response.text
    assert "Springfield" in response.text  # the address is kept
    assert hidden_key(response) == key
    assert not Checkout.objects.exists()
    assert not PaymentMethod.objects.exists()
    assert recorded(CartOutbox) == []


def test_an_expired_card_is_refused(shopper, filled_cart):
    response = shopper.post(reverse("storefront-checkout"), form_data("k-1", exp_year="2001"))

    assert response.context["form"].errors["card_number"] == ["Your card has expired"]
    assert not Checkout.objects.exists()


def test_missing_fields_are_shown_next_to_them(shopper, filled_cart):
    response = shopper.post(reverse("storefront-checkout"), form_data("k-1", **{"shipping-city": ""}, exp_month=""))

    errors = response.context["form"].errors
    assert response.context["form"].address_form.errors["city"] == ["This field is required."]
    assert errors["exp_month"] == ["This field is required."]
    assert 'id="id_shipping-city_error"' in response.text
    assert not PaymentMethod.objects.exists()


def test_an_empty_cart_cannot_be_checked_out(shopper, customer):
    page = shopper.get(reverse("storefront-checkout"))
    assert "Your cart is empty" in page.text

    response = shopper.post(reverse("storefront-checkout"), form_data("k-1"))

    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == ["Your cart is empty"]
    assert not Checkout.objects.exists()


def test_checkout_needs_a_login(client):
    response = client.get(reverse("storefront-checkout"))

    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts-login"))


def test_a_month_out_of_range_is_refused_before_the_gateway(shopper, filled_cart):
    response = shopper.post(reverse("storefront-checkout"), form_data("k-1", exp_month="13"))

    assert response.context["form"].errors["exp_month"] == ["Ensure this value is less than or equal to 12."]
    assert not PaymentMethod.objects.exists()
