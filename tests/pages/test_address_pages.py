"""The address book pages, and the checkout page offering the saved addresses."""

import re
import uuid
from datetime import date

import pytest
from django.urls import reverse

from accounts.models import Address
from accounts.selectors import address_list
from accounts.services import address_create
from cart import services as cart_services
from cart.models import Checkout
from cart.models import OutboxMessage as CartOutbox
from payments.models import PaymentMethod
from shopsite.limits import MAX_SAVED_ADDRESSES
from shopsite.testing import ADDRESS, an_address, recorded

pytestmark = pytest.mark.django_db(databases="__all__")

BOOK = reverse("accounts-addresses")
ADD = reverse("accounts-address-create")
CHECKOUT = reverse("storefront-checkout")


def book(user) -> list[tuple[str, bool]]:
    return [(address.line1, address.is_default) for address in address_list(user_id=user.id)]


def form(**changes) -> dict:
    return {**ADDRESS, **changes}


# --- the book ------------------------------------------------------------------------------------


def test_the_address_book_lists_the_default_first(shopper, customer):
    address_create(user_id=customer.id, address=an_address(line1="1 Home Rd"))
    address_create(user_id=customer.id, address=an_address(line1="2 Work Ave", country="DE", region=""))

    response = shopper.get(BOOK)

    assert response.status_code == 200
    text = response.text
    assert text.index("1 Home Rd") < text.index("2 Work Ave")
    assert text.count(">Default</span>") == 1
    assert "Casey Customer<br>2 Work Ave<br>62701 Springfield<br>Germany" in text
    assert text.count(">Make default</button>") == 1


def test_an_empty_book_invites_to_add_one(shopper):
    assert "No addresses yet" in shopper.get(BOOK).text


def test_adding_an_address_saves_it_and_the_first_is_the_default(shopper, customer):
    page = shopper.get(ADD)
    assert page.status_code == 200
    assert '<option value="DE">Germany</option>' in page.text
    assert 'autocomplete="shipping postal-code"' in page.text

    response = shopper.post(ADD, form(country="us"))  # the select sends upper case; a hand-made post may not

    assert response.status_code == 200 and "country" in response.context["form"].errors
    response = shopper.post(ADD, form())
    assert response.status_code == 302 and response.url == BOOK
    assert book(customer) == [("1 Main St", True)]


def test_an_address_may_be_made_the_default_as_it_is_added(shopper, customer):
    address_create(user_id=customer.id, address=an_address(line1="1 Home Rd"))

    shopper.post(ADD, form(line1="2 Work Ave", is_default="on"))

    assert book(customer) == [("2 Work Ave", True), ("1 Home Rd", False)]


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"country": "XX"}, "country", "Unknown country code “XX”: use an ISO 3166-1 alpha-2 code such as DE or US."),
        ({"country": ""}, "country", "This field is required."),
        ({"name": ""}, "name", "This field is required."),
        ({"city": "Spring\tfield"}, "city", "Must not contain control characters such as line breaks or tabs."),
        ({"postal_code": "1" * 21}, "postal_code", "Ensure this value has at most 20 characters (it has 21)."),
    ],
)
def test_a_bad_field_is_shown_next_to_it_and_nothing_is_saved(shopper, changes, field, message):
    response = shopper.post(ADD, form(**changes))

    assert response.status_code == 200
    assert response.context["form"].errors == {field: [message]}
    assert f'id="id_{field}_error"' in response.text
    assert not Address.objects.exists()


def test_a_full_book_says_so(shopper, customer):
    for n in range(MAX_SAVED_ADDRESSES):
        address_create(user_id=customer.id, address=an_address(line1=f"{n} Main St"))

    assert "Your address book is full" in shopper.get(BOOK).text
    response = shopper.post(ADD, form(line1="One Too Many St"))

    assert response.status_code == 200
    assert f"at most {MAX_SAVED_ADDRESSES} addresses" in response.context["form"].non_field_errors()[0]
    assert Address.objects.count() == MAX_SAVED_ADDRESSES


def test_editing_shows_the_address_and_saves_the_change(shopper, customer):
    home = address_create(user_id=customer.id, address=an_address(line1="1 Home Rd"))
    url = reverse("accounts-address-update", args=[home.id])

    page = shopper.get(url)
    assert page.context["form"].initial == {**ADDRESS, "line1": "1 Home Rd", "line2": ""}
    assert 'value="1 Home Rd"' in page.text

    response = shopper.post(url, form(line1="1 New Home Rd"))

    assert response.status_code == 302 and response.url == BOOK
    assert book(customer) == [("1 New Home Rd", True)]


def test_make_default_and_delete(shopper, customer):
    home = address_create(user_id=customer.id, address=an_address(line1="1 Home Rd"))
    work = address_create(user_id=customer.id, address=an_address(line1="2 Work Ave"))

    shopper.post(reverse("accounts-address-make-default", args=[work.id]))
    assert book(customer) == [("2 Work Ave", True), ("1 Home Rd", False)]

    response = shopper.post(reverse("accounts-address-delete", args=[work.id]))
    assert response.status_code == 302
    assert book(customer) == [("1 Home Rd", True)]
    assert home.id != work.id


@pytest.mark.parametrize("view", ["accounts-address-update", "accounts-address-delete", "accounts-address-make-default"])
def test_someone_elses_address_is_a_404(shopper, stranger, view):
    address_create(user_id=stranger.id, address=an_address(line1="1 Sam St"))
    theirs = address_create(user_id=stranger.id, address=an_address(line1="9 Secret St"))
    url = reverse(view, args=[theirs.id])

    assert shopper.get(url).status_code == (404 if view == "accounts-address-update" else 405)
    response = shopper.post(url, form(line1="Taken Over"))

    assert response.status_code == 404
    assert "Secret St" not in response.text
    assert book(stranger) == [("1 Sam St", True), ("9 Secret St", False)]


def test_the_address_book_needs_a_login(client):
    for url in (BOOK, ADD, reverse("accounts-address-update", args=[uuid.uuid4()])):
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith(reverse("accounts-login"))


def test_the_menu_and_the_profile_lead_to_the_book(shopper):
    assert f'href="{BOOK}"' in shopper.get(reverse("accounts-profile")).text


# --- the checkout offers the book -----------------------------------------------------------------


@pytest.fixture
def filled_cart(customer, make_product):
    mug = make_product(name="Mug", price="9.50")
    cart_services.cart_item_add(user_id=customer.id, product_id=mug.id, quantity=1)


def checkout_form(key: str, **fields) -> dict:
    return {"idempotency_key": key, "card_number": "4242 4242 4242 4242", "exp_month": "12",
            "exp_year": str(date.today().year + 2), "cvc": "123", **fields}


def hidden_key(response) -> str:
    return re.search(r'name="idempotency_key" value="([^"]+)"', response.text).group(1)


def checked_radio(response) -> str:
    return re.search(r'<input type="radio" name="ship_to" value="([^"]+)"[^>]*checked', response.text).group(1)


def test_the_checkout_offers_the_saved_addresses_with_the_default_chosen(shopper, customer, filled_cart):
    address_create(user_id=customer.id, address=an_address(line1="1 Home Rd"))
    work = address_create(user_id=customer.id, address=an_address(line1="2 Work Ave"), is_default=True)

    response = shopper.get(CHECKOUT)

    assert checked_radio(response) == str(work.id)
    assert response.context["form"]["ship_to"].value() == str(work.id)
    text = response.text
    assert "Casey Customer<br>1 Main St" not in text  # each saved address is shown as written
    assert "Casey Customer<br>1 Home Rd<br>Springfield, IL 62701<br>United States" in text
    assert "Casey Customer<br>2 Work Ave<br>Springfield, IL 62701<br>United States" in text
    assert ">A new address</span>" in text
    assert 'data-ship-to="new-address"' in text


def test_without_saved_addresses_the_checkout_asks_for_a_new_one(shopper, filled_cart):
    text = shopper.get(CHECKOUT).text

    assert 'name="ship_to"' not in text
    assert 'name="shipping-line1"' in text and 'name="shipping-country"' in text


def test_checking_out_with_a_saved_address_sends_a_copy_of_it(shopper, customer, filled_cart):
    home = address_create(user_id=customer.id, address=an_address(line1="1 Home Rd"))
    key = hidden_key(shopper.get(CHECKOUT))

    response = shopper.post(CHECKOUT, checkout_form(key, ship_to=str(home.id)))

    assert response.status_code == 302, response.context["form"].errors if response.context else ""
    [message] = recorded(CartOutbox, "cart.checked_out")
    assert message["shipping_address"] == {**ADDRESS, "line1": "1 Home Rd", "line2": ""}


def test_a_new_address_at_checkout_is_used_instead_of_the_saved_ones(shopper, customer, filled_cart):
    address_create(user_id=customer.id, address=an_address(line1="1 Home Rd"))
    new = {f"shipping-{field}": value for field, value in form(line1="7 Holiday Cove", country="PT", region="",
                                                                postal_code="8600-000", city="Lagos").items()}

    response = shopper.post(CHECKOUT, checkout_form("k-1", ship_to="new", **new))

    assert response.status_code == 302
    [message] = recorded(CartOutbox, "cart.checked_out")
    assert (message["shipping_address"]["line1"], message["shipping_address"]["country"]) == ("7 Holiday Cove", "PT")
    assert book(customer) == [("1 Home Rd", True)]  # the book is not changed by a checkout


def test_someone_elses_saved_address_cannot_be_chosen_at_checkout(shopper, stranger, filled_cart):
    theirs = address_create(user_id=stranger.id, address=an_address(line1="9 Secret St"))

    response = shopper.post(CHECKOUT, checkout_form("k-1", ship_to=str(theirs.id)))

    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["ship_to"]
    assert response.context["form"].errors["ship_to"][0].startswith("Select a valid choice.")
    assert not Checkout.objects.exists() and not PaymentMethod.objects.exists()


def test_a_bad_new_address_at_checkout_is_shown_next_to_its_fields(shopper, customer, filled_cart):
    address_create(user_id=customer.id, address=an_address(line1="1 Home Rd"))
    new = {f"shipping-{field}": value for field, value in form(country="XX").items()}

    response = shopper.post(CHECKOUT, checkout_form("k-1", ship_to="new", **new))

    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == ["Please check the shipping address."]
    assert list(response.context["form"].address_form.errors) == ["country"]
    assert checked_radio(response) == "new"  # the choice is kept, so the fields stay shown
    assert 'value="1 Main St"' in response.text  # and what was typed
    assert not Checkout.objects.exists() and not PaymentMethod.objects.exists()
