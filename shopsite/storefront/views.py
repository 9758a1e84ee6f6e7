"""The checkout page: it composes the cart, the payments and the accounts services (the address book) through
their public functions."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.shortcuts import redirect
from django.utils.decorators import method_decorator
from django.views.decorators.debug import sensitive_post_parameters
from django.views.generic import FormView

from accounts import selectors as account_selectors
from cart import selectors as cart_selectors
from cart import services as cart_services
from payments import services as payment_services
from shopsite import metrics
from shopsite.errors import ApplicationError
from shopsite.throttling import ThrottledPostMixin

from .forms import CheckoutForm


# Error reports (and Django's debug page) must never show the card.
@method_decorator(sensitive_post_parameters("card_number", "cvc", "exp_month", "exp_year"), name="dispatch")
class CheckoutCreateView(LoginRequiredMixin, ThrottledPostMixin, FormView):
    throttle_scope = "checkout"
    template_name = "storefront/checkout_form.html"
    form_class = CheckoutForm

    def post(self, request, *args, **kwargs):
        response = super().post(request, *args, **kwargs)
        # A checkout goes on to its order; the form shown again (with its errors) or a 4xx is a refusal.
        if response.status_code < 500:
            metrics.checkout_answered(accepted=response.status_code in (301, 302, 303))
        return response

    def get_initial(self):
        return {"idempotency_key": CheckoutForm.new_key()}

    def get_form_kwargs(self):
        saved = account_selectors.address_list(user_id=self.request.user.id)
        return {**super().get_form_kwargs(), "saved_addresses": saved}

    def get_context_data(self, **kwargs):
        return super().get_context_data(cart=cart_selectors.cart_get(user_id=self.request.user.id), **kwargs)

    def form_valid(self, form):
        user_id, data = self.request.user.id, form.cleaned_data
        # A second submission of the same form: its order exists, and the card
        # need not be sent to the gateway again.
        done = cart_selectors.checkout_find(user_id=user_id, idempotency_key=data["idempotency_key"])
        if done is None:
            if cart_selectors.cart_is_empty(user_id=user_id):  # a second tab: refused before the card goes out
                form.add_error(None, cart_services.EMPTY_CART)
                return self.form_invalid(form)
            try:
                method = payment_services.payment_method_create(
                    user_id=user_id, card_number=data["card_number"], exp_month=data["exp_month"],
                    exp_year=data["exp_year"], cvc=data["cvc"],
                )
            except ApplicationError as error:
                form.add_error("card_number", error.message)
                return self.form_invalid(form)
            try:
                done = cart_services.cart_checkout(
                    user_id=user_id, idempotency_key=data["idempotency_key"], payment_method_id=method.id,
                    shipping_address=data["shipping_address"],
                )
            except ApplicationError as error:
                form.add_error(None, error.message)
                return self.form_invalid(form)
            messages.success(self.request, "Thank you! We have your order and are confirming it now.")
        return redirect("orders-detail", order_id=done.order_id)
