"""Forms of the account pages: they check the shape of the input; the services decide."""

from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm, PasswordResetForm, SetPasswordForm
from django.core.exceptions import ValidationError

from shopsite.addresses import AddressForm
from shopsite.errors import ApplicationError
from shopsite.validators import no_control_characters

from . import services
from .lockout import lockout_message

#: The code of the form error shown while logins of this email from this address are locked.
LOCKED_OUT = "locked_out"


class EmailAuthenticationForm(AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "That email and password do not match an account.",
    }
    username = forms.EmailField(
        label="Email",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
    )

    def get_invalid_login_error(self):
        # django-axes refused the attempt without looking at the password:
        # "wrong password" would send the user round again for nothing.
        if getattr(self.request, "axes_locked_out", False):
            return ValidationError(lockout_message(), code=LOCKED_OUT)
        return super().get_invalid_login_error()


PASSWORD_HELP = "At least 8 characters, not only spaces, not too common, and not only numbers."


class _NewPasswordSavedByTheService:
    """Django's password forms, saving through accounts.services, which also revokes the user's API tokens."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Django's help is an HTML list; the shop's fields show one line.
        self.fields["new_password1"].help_text = PASSWORD_HELP

    def save(self, commit=True):
        return services.user_password_set(user=self.user, password=self.cleaned_data["new_password1"])


class UserPasswordChangeForm(_NewPasswordSavedByTheService, PasswordChangeForm):
    pass


class UserSetPasswordForm(_NewPasswordSavedByTheService, SetPasswordForm):
    pass


class UserPasswordResetForm(PasswordResetForm):
    email = forms.EmailField(
        label="Email", max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True})
    )


class UserRegisterForm(forms.Form):
    email = forms.EmailField(
        label="Email", max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True})
    )
    name = forms.CharField(
        label="Your name", max_length=150, validators=[no_control_characters],
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    password = forms.CharField(
        label="Password",
        strip=False,
        max_length=128,
        help_text=PASSWORD_HELP,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def add_service_error(self, error: ApplicationError) -> None:
        """Put the service's refusal next to the field it is about."""
        if "password" in error.extra:
            for message in error.extra["password"]:
                self.add_error("password", message)
        else:
            self.add_error(None, error.message)


class UserProfileForm(forms.Form):
    name = forms.CharField(
        label="Your name", max_length=150, validators=[no_control_characters],
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )


class SavedAddressForm(AddressForm):
    """An address of the address book: the shared address fields."""


class SavedAddressCreateForm(SavedAddressForm):
    is_default = forms.BooleanField(label="Make this my default address", required=False)
