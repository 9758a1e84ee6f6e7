import uuid
from datetime import date
from decimal import Decimal

import pytest

from payments.models import PaymentMethod
from payments.services import charge_for_order, payment_method_create

from .conftest import CUSTOMER, OTHER_CUSTOMER, assert_error, assert_unauthenticated

pytestmark = pytest.mark.django_db(databases=["payments"])

METHODS, CHARGES = "/api/payments/methods/", "/api/payments/charges/"
NEXT_YEAR = date.today().year + 1
VISA, DECLINED = "4242424242424242", "4000000000000002"


def card(user, number=VISA) -> PaymentMethod:
    return payment_method_create(user_id=user.id, card_number=number, exp_month=1, exp_year=NEXT_YEAR, cvc="123")


def charge(user, number=VISA):
    return charge_for_order(
        order_id=uuid.uuid4(), user_id=user.id, amount=Decimal("5.00"), currency="USD",
        payment_method_id=card(user, number).id,
    )


# --- payment methods ------------------------------------------------------------


def test_create_method(customer):
    response = customer.post(
        METHODS, {"card_number": VISA, "exp_month": 2, "exp_year": NEXT_YEAR, "cvc": "123"}, format="json"
    )

    assert response.status_code == 201
    assert (response.json()["brand"], response.json()["last4"]) == ("visa", "4242")
    assert VISA not in response.content.decode()
    assert PaymentMethod.objects.get().user_id == CUSTOMER.id


@pytest.mark.parametrize(
    "body, field",
    [
        ({"card_number": VISA, "exp_month": 13, "exp_year": NEXT_YEAR, "cvc": "123"}, "exp_month"),
        ({"card_number": VISA, "exp_month": 1, "exp_year": NEXT_YEAR}, "cvc"),
    ],
)
def test_create_method_refuses_invalid_fields_without_echoing_the_number(customer, body, field):
    response = customer.post(METHODS, body, format="json")

    assert list(assert_error(response, 400)["extra"]["fields"]) == [field]
    assert VISA not in response.content.decode()
    assert not PaymentMethod.objects.exists()


def test_create_method_refuses_a_card_the_gateway_rejects(customer):
    response = customer.post(
        METHODS, {"card_number": "4242424242424241", "exp_month": 1, "exp_year": NEXT_YEAR, "cvc": "1"}, format="json"
    )

    assert_error(response, 400)
    assert "4242424242424241" not in response.content.decode()


def test_create_method_needs_a_signed_in_user(anonymous):
    response = anonymous.post(METHODS, {"card_number": VISA, "exp_month": 1, "exp_year": NEXT_YEAR, "cvc": "1"})

    assert_unauthenticated(response)
    assert not PaymentMethod.objects.exists()


def test_list_methods_shows_only_the_users_own_page_by_page(customer):
    mine = [card(CUSTOMER) for _ in range(21)]
    card(OTHER_CUSTOMER)

    first = customer.get(METHODS).json()
    second = customer.get(METHODS, {"page": 2}).json()

    assert first["count"] == 21
    assert {m["id"] for m in first["results"] + second["results"]} == {str(m.id) for m in mine}


def test_list_methods_refuses_a_page_that_does_not_exist(customer):
    assert_error(customer.get(METHODS, {"page": 5}), 404)


def test_list_methods_needs_a_signed_in_user(anonymous):
    assert_unauthenticated(anonymous.get(METHODS))


def test_method_detail(customer):
    method = card(CUSTOMER)

    response = customer.get(f"{METHODS}{method.id}/")

    assert response.status_code == 200
    assert response.json()["id"] == str(method.id)


def test_method_detail_of_someone_elses_card_is_a_404(customer):
    theirs = card(OTHER_CUSTOMER)

    assert assert_error(customer.get(f"{METHODS}{theirs.id}/"), 404)["message"] == "Unknown payment method"


def test_method_detail_needs_a_signed_in_user(anonymous):
    assert_unauthenticated(anonymous.get(f"{METHODS}{card(CUSTOMER).id}/"))


# --- charges ------------------------------------------------------------------


def test_charges_list_only_the_users_own_filtered_by_status(customer):
    paid, declined = charge(CUSTOMER), charge(CUSTOMER, DECLINED)
    charge(OTHER_CUSTOMER)

    def ids(**params):
        return {c["id"] for c in customer.get(CHARGES, params).json()["results"]}

    assert customer.get(CHARGES).json()["count"] == 2
    assert ids(status="succeeded") == {str(paid.id)}
    assert ids(status="failed") == {str(declined.id)}


def test_charges_refuse_an_unknown_status(customer):
    assert list(assert_error(customer.get(CHARGES, {"status": "refunded"}), 400)["extra"]["fields"]) == ["status"]


def test_charges_need_a_signed_in_user(anonymous):
    assert_unauthenticated(anonymous.get(CHARGES))
