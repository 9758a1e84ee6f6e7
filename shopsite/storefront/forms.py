"""The checkout form: shipping address and card, with the key that makes a resubmission harmless."""

import uuid

from django import forms


class BlankOnRedisplayInput(forms.TextInput):
    """A text input that never sends back what was typed: card data stays out of the page."""

    def format_value(self, value):
        return None


class CheckoutForm(forms.Form):
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=100)
    shipping_address = forms.CharField(
        label="Shipping address",
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 4, "autocomplete": "shipping street-address",
                                     "placeholder": "Name\nStreet and number\nPostcode and city\nCountry"}),
    )
    card_number = forms.CharField(
        label="Card number",
        max_length=23,
        widget=BlankOnRedisplayInput(attrs={"autocomplete": "cc-number", "inputmode": "numeric",
                                            "placeholder": "1234 1234 1234 1234", "spellcheck": "false"}),
    )
    exp_month = forms.IntegerField(
        label="Expiry month",
        min_value=1,
        max_value=12,
        widget=forms.NumberInput(attrs={"autocomplete": "cc-exp-month", "placeholder": "MM", "inputmode": "numeric"}),
    )
    exp_year = forms.IntegerField(
        label="Expiry year",
        min_value=0,
        max_value=9999,
        widget=forms.NumberInput(attrs={"autocomplete": "cc-exp-year", "placeholder": "YYYY", "inputmode": "numeric"}),
    )
    cvc = forms.CharField(
        label="Security code (CVC)",
        max_length=4,
        widget=BlankOnRedisplayInput(attrs={"autocomplete": "cc-csc", "inputmode": "numeric", "placeholder": "123",
                                            "spellcheck": "false"}),
    )

    @staticmethod
    def new_key() -> str:
        return str(uuid.uuid4())
