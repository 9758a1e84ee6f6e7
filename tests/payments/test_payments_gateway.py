from datetime import date
from decimal import Decimal

import pytest

from payments.gateway import CardRejected, TestGateway, card_brand, luhn_valid

NEXT_YEAR = date.today().year + 1


def tokenize(number, *, month=12, year=NEXT_YEAR, cvc="123"):
    return TestGateway().tokenize(card_number=number, exp_month=month, exp_year=year, cvc=cvc)


@pytest.mark.parametrize("number", ["4242424242424242", "4000000000000002", "4000000000009995", "5555555555554444",
                                    "378282246310005"])
def test_luhn_accepts_real_test_numbers(number):
    assert luhn_valid(number)


@pytest.mark.parametrize("number", ["4242424242424241", "4000000000000001", "1234567812345678"])
def test_luhn_rejects_a_mistyped_number(number):
    assert not luhn_valid(number)


def test_tokenize_rejects_a_number_failing_luhn_without_repeating_it():
    with pytest.raises(CardRejected) as caught:
        tokenize("4242 4242 4242 4241")

    assert str(caught.value) == "Your card number is invalid"
    assert "4241" not in str(caught.value)


@pytest.mark.parametrize(
    "number, kwargs, message",
    [
        ("42424242", {}, "card number is invalid"),
        ("4242abcd42424242", {}, "card number is invalid"),
        ("4242424242424242", {"month": 13}, "expiration month"),
        ("4242424242424242", {"year": date.today().year - 1}, "expired"),
        ("4242424242424242", {"cvc": "12"}, "security code"),
        ("4242424242424242", {"cvc": "12a"}, "security code"),
    ],
)
def test_tokenize_rejects_invalid_details(number, kwargs, message):
    with pytest.raises(CardRejected, match=message):
        tokenize(number, **kwargs)


def test_tokenize_strips_spaces_and_dashes_and_keeps_only_brand_and_last4():
    card = tokenize("4242-4242 4242-4242")

    assert (card.brand, card.last4) == ("visa", "4242")
    assert "4242424242424242" not in card.token


def test_tokens_are_never_reused():
    assert tokenize("4242424242424242").token != tokenize("4242424242424242").token


@pytest.mark.parametrize(
    "number, brand",
    [("4242424242424242", "visa"), ("5105105105105100", "mastercard"), ("2223003122003222", "mastercard"),
     ("378282246310005", "amex"), ("6011111111111117", "card")],
)
def test_brand_comes_from_the_prefix(number, brand):
    assert card_brand(number) == brand


@pytest.mark.parametrize(
    "number, succeeded, code",
    [("4242424242424242", True, ""), ("4000000000000002", False, "card_declined"),
     ("4000000000009995", False, "insufficient_funds")],
)
def test_the_token_carries_the_test_cards_outcome_to_charge(number, succeeded, code):
    token = tokenize(number).token

    result = TestGateway().charge(token=token, amount=Decimal("10.00"), currency="USD", idempotency_key="k1")

    assert (result.succeeded, result.code) == (succeeded, code)
    assert bool(result.message) is not succeeded


def test_charge_is_deterministic_per_idempotency_key():
    token = tokenize("4242424242424242").token
    gateway = TestGateway()

    first = gateway.charge(token=token, amount=Decimal("10.00"), currency="USD", idempotency_key="order-1")
    again = gateway.charge(token=token, amount=Decimal("10.00"), currency="USD", idempotency_key="order-1")
    other = gateway.charge(token=token, amount=Decimal("10.00"), currency="USD", idempotency_key="order-2")

    assert first == again
    assert first.reference != other.reference


def test_a_token_the_gateway_never_issued_cannot_be_charged():
    result = TestGateway().charge(token="tok_forged", amount=Decimal("1.00"), currency="USD", idempotency_key="k")

    assert (result.succeeded, result.code) == (False, "invalid_token")
