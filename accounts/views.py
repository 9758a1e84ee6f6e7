"""The account pages: register, log in and out, the password, the profile and the notifications inbox."""

from __future__ import annotations

import uuid
from functools import cached_property

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.mixins import LoginRequiredMixin
from django.contrib.auth.views import (
    LoginView,
    LogoutView,
    PasswordChangeView,
    PasswordResetCompleteView,
    PasswordResetConfirmView,
    PasswordResetDoneView,
    PasswordResetView,
)
from django.core.exceptions import NON_FIELD_ERRORS
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse, reverse_lazy
from django.utils.http import urlencode
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View
from django.views.generic import FormView, TemplateView

from shopsite.errors import ApplicationError, NotFound
from shopsite.limits import MAX_SAVED_ADDRESSES
from shopsite.throttling import ThrottledPostMixin

from . import selectors, services
from .forms import (
    LOCKED_OUT,
    EmailAuthenticationForm,
    SavedAddressCreateForm,
    SavedAddressForm,
    UserPasswordChangeForm,
    UserPasswordResetForm,
    UserProfileForm,
    UserRegisterForm,
    UserSetPasswordForm,
)
from .lockout import TOO_MANY_REQUESTS, cooloff_seconds

INBOX_PAGE_SIZE = 20


def _safe_next(request, fallback: str) -> str:
    wanted = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return wanted
    return fallback


class UserRegisterView(ThrottledPostMixin, FormView):
    throttle_scope = "register"
    template_name = "accounts/user_register.html"
    form_class = UserRegisterForm

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            return redirect("catalog-home")
        return super().dispatch(request, *args, **kwargs)

    def form_valid(self, form):
        # Logging the new user in would tell a visitor that an address which
        # does not log in was taken: both go on to the login page alike.
        try:
            services.user_sign_up(**form.cleaned_data)
        except ApplicationError as error:
            form.add_service_error(error)
            return self.form_invalid(form)
        messages.success(self.request, services.REGISTERED)
        login_url = reverse("accounts-login")
        next_url = _safe_next(self.request, "")
        return redirect(f"{login_url}?{urlencode({'next': next_url})}" if next_url else login_url)

    def get_context_data(self, **kwargs):
        return super().get_context_data(next=_safe_next(self.request, ""), **kwargs)


class UserLoginView(ThrottledPostMixin, LoginView):
    throttle_scope = "login"
    template_name = "accounts/user_login.html"
    authentication_form = EmailAuthenticationForm
    redirect_authenticated_user = True

    def form_invalid(self, form):
        response = super().form_invalid(form)
        if form.has_error(NON_FIELD_ERRORS, code=LOCKED_OUT):
            response.status_code = TOO_MANY_REQUESTS
            response["Retry-After"] = str(cooloff_seconds())
        return response


class UserLogoutView(LogoutView):
    def post(self, request, *args, **kwargs):
        response = super().post(request, *args, **kwargs)
        messages.info(request, "You are logged out. See you soon!")
        return response


class UserLogoutEverywhereView(LoginRequiredMixin, View):
    def post(self, request):
        services.user_logout_everywhere(user_id=request.user.id)
        logout(request)
        messages.info(request, "You are logged out on every device, and every API token is revoked.")
        return redirect("accounts-login")


class UserPasswordChangeView(PasswordChangeView):
    """Django's view: the form saves through the service; this session stays signed in, all others end."""

    template_name = "accounts/password_change_form.html"
    form_class = UserPasswordChangeForm
    success_url = reverse_lazy("accounts-profile")

    def form_valid(self, form):
        messages.success(self.request, "Your password is changed. You are logged out everywhere else.")
        return super().form_valid(form)


class UserPasswordResetView(ThrottledPostMixin, PasswordResetView):
    # Each post may send an email to someone else's address: limited like registering, which may too.
    throttle_scope = "register"
    template_name = "accounts/password_reset_form.html"
    form_class = UserPasswordResetForm
    subject_template_name = "accounts/password_reset_subject.txt"
    email_template_name = "accounts/password_reset_email.txt"
    success_url = reverse_lazy("accounts-password-reset-sent")


class UserPasswordResetSentView(PasswordResetDoneView):
    template_name = "accounts/password_reset_sent.html"


class UserPasswordResetConfirmView(PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    form_class = UserSetPasswordForm
    success_url = reverse_lazy("accounts-password-reset-complete")


class UserPasswordResetCompleteView(PasswordResetCompleteView):
    template_name = "accounts/password_reset_complete.html"


class UserProfileView(LoginRequiredMixin, FormView):
    template_name = "accounts/user_profile.html"
    form_class = UserProfileForm

    def get_initial(self):
        return {"name": self.request.user.name}

    def form_valid(self, form):
        services.user_update(user_id=self.request.user.id, name=form.cleaned_data["name"])
        messages.success(self.request, "Your profile is saved.")
        return redirect("accounts-profile")

    def get_context_data(self, **kwargs):
        summary = selectors.user_summary(user_id=self.request.user.id)
        return super().get_context_data(summary=summary, **kwargs)


class InboxItemListView(LoginRequiredMixin, TemplateView):
    template_name = "accounts/inboxitem_list.html"

    def get_context_data(self, **kwargs):
        items = selectors.inbox_list(user_id=self.request.user.id)
        page = Paginator(items, INBOX_PAGE_SIZE).get_page(self.request.GET.get("page"))
        return super().get_context_data(page=page, **kwargs)


class InboxItemReadView(LoginRequiredMixin, View):
    def post(self, request, notification_id: uuid.UUID):
        try:
            services.inbox_mark_read(user_id=request.user.id, notification_id=notification_id)
        except NotFound as error:
            raise Http404(error.message) from None
        return redirect(_safe_next(request, "accounts-notifications"))


class InboxItemReadAllView(LoginRequiredMixin, View):
    def post(self, request):
        marked = services.inbox_mark_all_read(user_id=request.user.id)
        if marked:
            messages.success(request, f"Marked {marked} notification{'s' if marked != 1 else ''} as read.")
        return redirect("accounts-notifications")


# --- the address book -----------------------------------------------------------


class AddressListView(LoginRequiredMixin, TemplateView):
    template_name = "accounts/address_list.html"

    def get_context_data(self, **kwargs):
        addresses = list(selectors.address_list(user_id=self.request.user.id))
        return super().get_context_data(
            addresses=addresses, limit=MAX_SAVED_ADDRESSES, full=len(addresses) >= MAX_SAVED_ADDRESSES, **kwargs
        )


class AddressCreateView(LoginRequiredMixin, FormView):
    template_name = "accounts/address_form.html"
    form_class = SavedAddressCreateForm

    def form_valid(self, form):
        try:
            services.address_create(
                user_id=self.request.user.id, address=form.address, is_default=form.cleaned_data["is_default"]
            )
        except ApplicationError as error:
            form.add_error(None, error.message)
            return self.form_invalid(form)
        messages.success(self.request, "The address is in your address book.")
        return redirect(_safe_next(self.request, "accounts-addresses"))

    def get_context_data(self, **kwargs):
        return super().get_context_data(next=_safe_next(self.request, ""), **kwargs)


class AddressUpdateView(LoginRequiredMixin, FormView):
    template_name = "accounts/address_form.html"
    form_class = SavedAddressForm

    @cached_property
    def saved(self):
        try:
            return selectors.address_get(user_id=self.request.user.id, address_id=self.kwargs["address_id"])
        except NotFound as error:
            raise Http404(error.message) from None

    def get_initial(self):
        return SavedAddressForm.initial_from(self.saved)

    def form_valid(self, form):
        try:
            services.address_update(user_id=self.request.user.id, address_id=self.saved.pk, address=form.address)
        except NotFound as error:  # deleted in another tab meanwhile
            raise Http404(error.message) from None
        messages.success(self.request, "The address is saved.")
        return redirect("accounts-addresses")

    def get_context_data(self, **kwargs):
        return super().get_context_data(saved=self.saved, **kwargs)


class AddressDeleteView(LoginRequiredMixin, View):
    def post(self, request, address_id: uuid.UUID):
        try:
            services.address_delete(user_id=request.user.id, address_id=address_id)
        except NotFound as error:
            raise Http404(error.message) from None
        messages.success(request, "The address is deleted.")
        return redirect("accounts-addresses")


class AddressMakeDefaultView(LoginRequiredMixin, View):
    def post(self, request, address_id: uuid.UUID):
        try:
            services.address_make_default(user_id=request.user.id, address_id=address_id)
        except NotFound as error:
            raise Http404(error.message) from None
        messages.success(request, "This is now your default address.")
        return redirect("accounts-addresses")
