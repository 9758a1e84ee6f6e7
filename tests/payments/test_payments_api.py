import uuid
from datetime import date
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.urls import include, path
from rest_framework.test import APIClient

from payments import handlers
from payments.models import PaymentMethod
from payments.services import payment_method_create
from shopsite import contracts

urlpatterns = [path("api/payments/", include("payments.urls"))]

pytestmark = [pytest.mark.urls(__name__), pytest.mark.django_db(databases=["payments"])]

NEXT_YEAR = date.today().year + 1


def client_for(user_id):
    client = APIClient()
    client.force_authenticate(SimpleNamespace(id=user_id, pk=user_id, is_authenticated=True, is_active=True))
    return client


def add_card(user_id, number="4242424242424242"):
    return payment_method_create(user_id=user_id, card_number=number, exp_month=1, exp_year=NEXT_YEAR, cvc="123")


def test_adding_a_card_returns_only_its_safe_details():
    response = client_for(1).post(
        "/api/payments/methods/",
        {"card_number": "4242 4242 4242 4242", "exp_month": 1, "exp_year": NEXT_YEAR, "cvc": "123"},
        format="json",
    )

    assert response.status_code == 201
    method = PaymentMethod.objects.get()
    assert response.json() == {
        "id": str(method.id), "brand": "visa", "last4": "4242", "exp_month": 1, "exp_year": NEXT_YEAR,
        "created_at": response.json()["created_at"],
    }
    assert method.user_id == 1


@pytest.mark.parametrize(
    "data",
    [
        {"card_number": "4242424242424241", "exp_month": 1, "exp_year": NEXT_YEAR, "cvc": "123"},
        {"card_number": "4242424242424242", "exp_month": 1, "exp_year": 2001, "cvc": "123"},
        {"card_number": "4242424242424242", "exp_month": 13, "exp_year": NEXT_YEAR, "cvc": "123"},
        {"card_number": "4242424242424242", "exp_month": "soon", "exp_year": NEXT_YEAR},
    ],
)
def test_invalid_cards_are_a_400_that_never_echoes_the_number(data):
    response = client_for(1).post("/api/payments/methods/", data, format="json")

    assert response.status_code == 400
    assert response.json()["message"]
    assert data["card_number"] not in response.content.decode()
    assert PaymentMethod.objects.count() == 0


def test_a_user_lists_and_reads_only_their_own_cards():
    mine = add_card(1)
    theirs = add_card(2, "5555555555554444")

    listing = client_for(1).get("/api/payments/methods/").json()

    assert listing["count"] == 1
    assert [m["id"] for m in listing["results"]] == [str(mine.id)]
    assert client_for(1).get(f"/api/payments/methods/{mine.id}/").status_code == 200
    response = client_for(1).get(f"/api/payments/methods/{theirs.id}/")
    assert response.status_code == 404
    assert response.json()["message"] == "Unknown payment method"


def test_charges_list_only_the_users_own():
    for user_id in (1, 2):
        handlers.payment_requested(
            contracts.RequestPayment(order_id=uuid.uuid4(), user_id=user_id, amount=Decimal("9.99"), currency="USD",
                                     payment_method_id=add_card(user_id).id)
        )

    results = client_for(1).get("/api/payments/charges/").json()["results"]

    assert len(results) == 1
    assert (results[0]["amount"], results[0]["status"], results[0]["refunded_amount"]) == ("9.99", "succeeded", "0.00")


def test_the_payment_api_needs_a_signed_in_user():
    assert APIClient().get("/api/payments/methods/").status_code in (401, 403)
