"""Postal addresses at the edges: the API's serializer and the pages' form, shared by every service.

Both check each field with a message for a person, then build a
``contracts.Address``, which has the last word: what a customer may type is
exactly what may travel on the bus. The address book (accounts) and the
checkout (storefront) use the same two, so an address saved is an address
the checkout takes.
"""

from __future__ import annotations

import functools

from django import forms
from pydantic import ValidationError
from rest_framework import serializers

from shopsite import contracts
from shopsite.countries import COUNTRIES, COUNTRY_CHOICES
from shopsite.errors import ApplicationError
from shopsite.limits import (
    ADDRESS_CITY_LENGTH, ADDRESS_LINE_LENGTH, ADDRESS_NAME_LENGTH, ADDRESS_POSTAL_CODE_LENGTH, ADDRESS_REGION_LENGTH,
)
from shopsite.validators import no_control_characters

FIELDS = ("name", "line1", "line2", "city", "region", "postal_code", "country")
UNKNOWN_COUNTRY = "Unknown country code “{code}”: use an ISO 3166-1 alpha-2 code such as DE or US."

_HELP = {
    "name": "Who receives the parcel.",
    "line1": "Street and number.",
    "line2": "Apartment, floor, building, c/o (optional).",
    "region": "State, province or county, where the country has them (optional).",
    "country": "ISO 3166-1 alpha-2 code, such as DE or US (lower case is accepted).",
}


def field_errors(error: ValidationError) -> dict[str, list[str]]:
    """A contract's refusal as the shop's per-field messages."""
    fields: dict[str, list[str]] = {}
    for problem in error.errors():
        field = str(problem["loc"][0]) if problem["loc"] else "non_field_errors"
        message = problem["msg"].removeprefix("Value error, ")
        fields.setdefault(field, []).append(message[:1].upper() + message[1:].rstrip(".") + ".")
    return fields


def address_parse(value: contracts.Address | dict) -> contracts.Address:
    """An address from what a service was given, or an ApplicationError naming each field at fault.

    An Address is checked again too: one read back from a database is built without a check, and what
    a service records for the bus must pass the contract its consumers apply.
    """
    if isinstance(value, contracts.Address):
        value = value.model_dump()
    if not isinstance(value, dict):
        raise ApplicationError("A shipping address is required.", {"fields": {"shipping_address": ["Required."]}})
    try:
        return contracts.Address.model_validate(value)
    except ValidationError as error:
        raise ApplicationError("This address is not valid.", {"fields": field_errors(error)}) from None


# --- the API ----------------------------------------------------------------


@functools.cache
def _country_tables() -> tuple[dict, dict, dict]:
    """DRF's lookup tables of the country codes, built once (CountryField)."""
    field = serializers.ChoiceField(choices=sorted(COUNTRIES))
    return field.grouped_choices, field._choices, field.choice_strings_to_values


class CountryField(serializers.ChoiceField):
    default_error_messages = {
        "invalid_choice": UNKNOWN_COUNTRY.replace("{code}", "{input}"),
        "blank": serializers.CharField.default_error_messages["blank"],
    }

    def __init__(self, **kwargs):
        super().__init__(choices=(), **kwargs)

    # A serializer deep-copies its fields for every instance, which builds a field anew: DRF's ChoiceField would
    # then rebuild its three lookup tables of some 250 countries each time (about a third of a millisecond per
    # address, on every checkout). The countries never change, so every CountryField shares one set of tables;
    # nothing in DRF writes to them.
    def _set_choices(self, choices):
        self.grouped_choices, self._choices, self.choice_strings_to_values = _country_tables()

    choices = property(serializers.ChoiceField._get_choices, _set_choices)

    def to_internal_value(self, data):
        code = data.strip().upper() if isinstance(data, str) else data
        if code == "":
            self.fail("blank")
        return super().to_internal_value(code)


def _line(max_length: int, *, required: bool = True, help_text: str | None = None) -> serializers.CharField:
    optional = {} if required else {"required": False, "allow_blank": True, "default": ""}
    return serializers.CharField(
        max_length=max_length, validators=[no_control_characters], help_text=help_text, **optional
    )


class AddressSerializer(serializers.Serializer):
    """A postal address; its ``validated_data`` is a ``contracts.Address``."""

    name = _line(ADDRESS_NAME_LENGTH, help_text=_HELP["name"])
    line1 = _line(ADDRESS_LINE_LENGTH, help_text=_HELP["line1"])
    line2 = _line(ADDRESS_LINE_LENGTH, required=False, help_text=_HELP["line2"])
    city = _line(ADDRESS_CITY_LENGTH)
    region = _line(ADDRESS_REGION_LENGTH, required=False, help_text=_HELP["region"])
    postal_code = _line(ADDRESS_POSTAL_CODE_LENGTH)
    country = CountryField(help_text=_HELP["country"])

    def validate(self, attrs) -> contracts.Address:
        try:
            return contracts.Address(**attrs)
        except ValidationError as error:
            raise serializers.ValidationError(field_errors(error)) from None


class AddressOutputSerializer(serializers.Serializer):
    name = serializers.CharField()
    line1 = serializers.CharField()
    line2 = serializers.CharField()
    city = serializers.CharField()
    region = serializers.CharField()
    postal_code = serializers.CharField()
    country = serializers.CharField(help_text="ISO 3166-1 alpha-2.")
    lines = serializers.ListField(
        child=serializers.CharField(), help_text="The address as written on the parcel, the country's name last."
    )


# --- the pages ----------------------------------------------------------------


def _text_input(autocomplete: str) -> forms.TextInput:
    return forms.TextInput(attrs={"autocomplete": f"shipping {autocomplete}"})


class AddressForm(forms.Form):
    """A postal address; once valid, ``address`` is a ``contracts.Address``."""

    name = forms.CharField(label="Full name", max_length=ADDRESS_NAME_LENGTH, validators=[no_control_characters],
                           widget=_text_input("name"))
    line1 = forms.CharField(label="Address line 1", max_length=ADDRESS_LINE_LENGTH,
                            validators=[no_control_characters], help_text=_HELP["line1"],
                            widget=_text_input("address-line1"))
    line2 = forms.CharField(label="Address line 2", max_length=ADDRESS_LINE_LENGTH, required=False,
                            validators=[no_control_characters], help_text="Apartment, floor, building, c/o.",
                            widget=_text_input("address-line2"))
    city = forms.CharField(label="City", max_length=ADDRESS_CITY_LENGTH, validators=[no_control_characters],
                           widget=_text_input("address-level2"))
    region = forms.CharField(label="Region", max_length=ADDRESS_REGION_LENGTH, required=False,
                             validators=[no_control_characters], help_text="State, province or county.",
                             widget=_text_input("address-level1"))
    postal_code = forms.CharField(label="Postal code", max_length=ADDRESS_POSTAL_CODE_LENGTH,
                                  validators=[no_control_characters], widget=_text_input("postal-code"))
    country = forms.ChoiceField(label="Country", choices=[("", "Choose a country"), *COUNTRY_CHOICES],
                                error_messages={"invalid_choice": UNKNOWN_COUNTRY.replace("{code}", "%(value)s")},
                                widget=forms.Select(attrs={"autocomplete": "shipping country"}))

    address: contracts.Address | None = None

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        try:
            self.address = contracts.Address(**{field: cleaned.get(field, "") for field in FIELDS})
        except ValidationError as error:
            for field, messages in field_errors(error).items():
                for message in messages:
                    self.add_error(field if field in self.fields else None, message)
        return cleaned

    @staticmethod
    def initial_from(address) -> dict:
        """The form's initial values from anything with the address's fields (a saved address, a contract)."""
        return {field: getattr(address, field) for field in FIELDS}
