"""The cart's forms: only the shape of the input; the cart service checks stock and limits."""

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS

from shopsite.limits import MAX_QUANTITY


class CartItemAddForm(forms.Form):
    product_id = forms.IntegerField(min_value=1)
    quantity = forms.IntegerField(min_value=1, max_value=MAX_QUANTITY, initial=1)


class CartItemUpdateForm(forms.Form):
    # Zero is allowed: it removes the line.
    quantity = forms.IntegerField(min_value=0, max_value=MAX_QUANTITY)


def first_error(form: forms.Form) -> str:
    """One sentence for a flash message, naming the field at fault."""
    for name, errors in form.errors.items():
        if name == NON_FIELD_ERRORS:
            return errors[0]
        label = form.fields[name].label or name.replace("_", " ").capitalize()
        return f"{label}: {errors[0]}"
    return "Please check the form."
