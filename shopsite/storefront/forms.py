"""The checkout form: shipping address and card, with the key that makes a resubmission harmless."""

import uuid

from django import forms
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe

from shopsite.addresses import AddressForm

#: The choice of ``ship_to`` that means "the address typed into the form".
NEW_ADDRESS = "new"


class BlankOnRedisplayInput(forms.TextInput):
    """A text input that never sends back what was typed: card data stays out of the page."""

    def format_value(self, value):
        return None


class CheckoutForm(forms.Form):
    """Once valid, ``cleaned_data["shipping_address"]`` is a ``contracts.Address``.

    It is one of ``saved_addresses`` (the customer's address book, the default
    chosen at first), or the new address typed into ``address_form``.
    """

    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=100)
    ship_to = forms.ChoiceField(label="Ship to", widget=forms.RadioSelect, required=False)
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

    def __init__(self, *args, saved_addresses=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.saved_addresses = {str(saved.pk): saved for saved in saved_addresses}
        ship_to = self.fields["ship_to"]
        ship_to.choices = [
            *((key, format_html_join(mark_safe("<br>"), "{}", ((line,) for line in saved.as_address().lines())))
              for key, saved in self.saved_addresses.items()),
            (NEW_ADDRESS, "A new address"),
        ]
        ship_to.initial = next((key for key, saved in self.saved_addresses.items() if saved.is_default), NEW_ADDRESS)
        self.address_form = AddressForm(self.data if self.is_bound else None, prefix="shipping")

    def clean(self):
        cleaned = super().clean()
        if self.has_error("ship_to"):  # not one of theirs: said next to the choice
            return cleaned
        choice = cleaned.get("ship_to") or NEW_ADDRESS
        if choice != NEW_ADDRESS:
            cleaned["shipping_address"] = self.saved_addresses[choice].as_address()
        elif self.address_form.is_valid():
            cleaned["shipping_address"] = self.address_form.address
        else:
            self.add_error(None, "Please check the shipping address.")
        return cleaned

    @staticmethod
    def new_key() -> str:
        return str(uuid.uuid4())
