"""The card gateway the payments service talks to, and a test double of it.

Only the gateway ever sees a card number: it hands back a token, and the shop
keeps the token, the brand and the last four digits. Card numbers never go
into a log line, an exception message or a database row.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string


class CardRejected(Exception):
    """The card details are not acceptable; the message is safe to show."""


class GatewayError(Exception):
    """The gateway could not be reached or failed: try again later."""


@dataclass(frozen=True, slots=True)
class CardToken:
    token: str
    brand: str
    last4: str


@dataclass(frozen=True, slots=True)
class ChargeResult:
    succeeded: bool
    reference: str
    code: str = ""
    message: str = ""


@dataclass(frozen=True, slots=True)
class RefundResult:
    reference: str


class PaymentGateway(Protocol):
    def tokenize(self, *, card_number: str, exp_month: int, exp_year: int, cvc: str) -> CardToken: ...

    def charge(self, *, token: str, amount: Decimal, currency: str, idempotency_key: str) -> ChargeResult:
        """Charge once per ``idempotency_key``: a repeated call returns the first result."""
        ...

    def refund(self, *, reference: str, amount: Decimal, idempotency_key: str) -> RefundResult: ...


def get_gateway() -> PaymentGateway:
    return import_string(settings.PAYMENT_GATEWAY)()


# --- the test gateway -----------------------------------------------------

#: Card numbers with a scripted outcome, as payment providers document them.
TEST_OUTCOMES = {
    "4000000000000002": "card_declined",
    "4000000000009995": "insufficient_funds",
}
DECLINE_MESSAGES = {
    "card_declined": "Your card was declined",
    "insufficient_funds": "Your card has insufficient funds",
    "invalid_token": "This payment method cannot be charged",
}
SUCCESS = "success"


def _ascii_digits(text: str) -> bool:
    # str.isdigit() also accepts "²" and "٤": int() fails on the first, and
    # neither is a digit a card network knows.
    return text.isascii() and text.isdigit()


def luhn_valid(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def card_brand(digits: str) -> str:
    if digits.startswith("4"):
        return "visa"
    if 51 <= int(digits[:2]) <= 55 or 2221 <= int(digits[:4]) <= 2720:
        return "mastercard"
    if digits[:2] in ("34", "37"):
        return "amex"
    return "card"


def _reference(prefix: str, key: str) -> str:
    # Derived from the idempotency key, so a retried call gets the same answer.
    return f"{prefix}_{hashlib.sha256(key.encode()).hexdigest()[:24]}"


class TestGateway:
    """A gateway with no network: the outcome of a charge is carried by the token.

    ``charge`` runs in the payments consumer, not in the web process that
    tokenized the card, so the token itself says how the test card behaves.
    """

    __test__ = False  # not a pytest test class

    def tokenize(self, *, card_number: str, exp_month: int, exp_year: int, cvc: str) -> CardToken:
        digits = "".join(ch for ch in str(card_number) if ch not in " -")
        if not _ascii_digits(digits) or not 12 <= len(digits) <= 19 or not luhn_valid(digits):
            raise CardRejected("Your card number is invalid")
        self._check_expiry(exp_month, exp_year)
        if not (_ascii_digits(str(cvc)) and 3 <= len(str(cvc)) <= 4):
            raise CardRejected("Your card's security code is invalid")
        outcome = TEST_OUTCOMES.get(digits, SUCCESS)
        token = f"tok_test_{outcome}_{secrets.token_hex(12)}"
        return CardToken(token=token, brand=card_brand(digits), last4=digits[-4:])

    @staticmethod
    def _check_expiry(exp_month: int, exp_year: int) -> None:
        if not 1 <= exp_month <= 12:
            raise CardRejected("Your card's expiration month is invalid")
        if exp_year < 100:
            exp_year += 2000
        today = date.today()
        if (exp_year, exp_month) < (today.year, today.month):
            raise CardRejected("Your card has expired")
        if exp_year > today.year + 50:
            raise CardRejected("Your card's expiration year is invalid")

    def charge(self, *, token: str, amount: Decimal, currency: str, idempotency_key: str) -> ChargeResult:
        reference = _reference("ch_test", idempotency_key)
        outcome = self._outcome(token)
        if outcome == SUCCESS:
            return ChargeResult(succeeded=True, reference=reference)
        return ChargeResult(succeeded=False, reference=reference, code=outcome, message=DECLINE_MESSAGES[outcome])

    @staticmethod
    def _outcome(token: str) -> str:
        prefix = "tok_test_"
        if token.startswith(prefix):
            outcome = token[len(prefix):].rsplit("_", 1)[0]
            if outcome == SUCCESS or outcome in DECLINE_MESSAGES:
                return outcome
        return "invalid_token"

    def refund(self, *, reference: str, amount: Decimal, idempotency_key: str) -> RefundResult:
        return RefundResult(reference=_reference("re_test", idempotency_key))
