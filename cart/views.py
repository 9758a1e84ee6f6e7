"""The cart page and the forms that change it (add, update, remove)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect, resolve_url
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View
from django.views.generic import TemplateView

from shopsite.errors import ApplicationError

from . import selectors, services
from .forms import CartItemAddForm, CartItemUpdateForm, first_error


def _back(request, fallback: str = "cart-detail") -> str:
    """Where the form came from, if it is on this site; else the cart."""
    for wanted in (request.POST.get("next"), request.headers.get("Referer")):
        if wanted and url_has_allowed_host_and_scheme(
            wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            return wanted
    return resolve_url(fallback)


def _line_name(user_id: int, product_id: int) -> str:
    line = next((line for line in selectors.cart_get(user_id=user_id).lines if line.product_id == product_id), None)
    return line.name if line else "the product"


class CartDetailView(LoginRequiredMixin, TemplateView):
    template_name = "cart/cart_detail.html"

    def get_context_data(self, **kwargs):
        cart = selectors.cart_get(user_id=self.request.user.id)
        notices = [line for line in cart.lines if line.notice]
        return super().get_context_data(cart=cart, notices=notices, **kwargs)


class CartItemAddView(View):
    def post(self, request):
        if not request.user.is_authenticated:
            # Back to the page they were on after logging in, not to this POST-only address.
            return redirect_to_login(_back(request, "catalog-home"))
        form = CartItemAddForm(request.POST)
        if not form.is_valid():
            messages.error(request, first_error(form))
            return redirect(_back(request))
        user_id, product_id, quantity = request.user.id, form.cleaned_data["product_id"], form.cleaned_data["quantity"]
        try:
            services.cart_item_add(user_id=user_id, product_id=product_id, quantity=quantity)
        except ApplicationError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, f"Added {quantity} × {_line_name(user_id, product_id)} to your cart.")
        return redirect(_back(request))


class CartItemUpdateView(LoginRequiredMixin, View):
    def post(self, request, product_id: int):
        form = CartItemUpdateForm(request.POST)
        if not form.is_valid():
            messages.error(request, first_error(form))
            return redirect("cart-detail")
        name = _line_name(request.user.id, product_id)
        try:
            services.cart_item_set(user_id=request.user.id, product_id=product_id, **form.cleaned_data)
        except ApplicationError as error:
            messages.error(request, error.message)
        else:
            quantity = form.cleaned_data["quantity"]
            messages.success(request, f"Removed {name}." if quantity == 0 else f"{name}: quantity set to {quantity}.")
        return redirect("cart-detail")


class CartItemRemoveView(LoginRequiredMixin, View):
    def post(self, request, product_id: int):
        name = _line_name(request.user.id, product_id)
        try:
            services.cart_item_remove(user_id=request.user.id, product_id=product_id)
        except ApplicationError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, f"Removed {name} from your cart.")
        return redirect("cart-detail")


class CartNoticesClearView(LoginRequiredMixin, View):
    def post(self, request):
        services.cart_notices_clear(user_id=request.user.id)
        return redirect("cart-detail")
