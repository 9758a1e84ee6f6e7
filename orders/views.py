"""Order history and the order page, which follows the order while its messages arrive."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.views import View
from django.views.generic import TemplateView

from shopsite.errors import Conflict, NotFound

from . import selectors, services
from .models import Order

PAGE_SIZE = 10
#: How many times a browser without JavaScript reloads a page waiting for a new order.
WAIT_ATTEMPTS = 30


class OrderListView(LoginRequiredMixin, TemplateView):
    template_name = "orders/order_list.html"

    def get_context_data(self, **kwargs):
        orders = selectors.order_history(user_id=self.request.user.id)
        page = Paginator(orders, PAGE_SIZE).get_page(self.request.GET.get("page"))
        return super().get_context_data(page=page, **kwargs)


class OrderDetailView(LoginRequiredMixin, View):
    def get(self, request, order_id: uuid.UUID):
        try:
            order = selectors.order_get(user_id=request.user.id, order_id=order_id)
        except NotFound:
            return self._not_here_yet(request, order_id)
        context = {
            "order": order,
            "in_flight": selectors.order_in_flight(order=order),
            "cancellable": order.status in services.CANCELLABLE,
        }
        return render(request, "orders/order_detail.html", context)

    def _not_here_yet(self, request, order_id: uuid.UUID):
        """A checkout's order reaches this service by message, a moment after the redirect here.

        Someone else's order and one that never existed look the same: a 404
        that waits a little, in case it is the customer's own new order.
        """
        try:
            attempt = int(request.GET.get("attempt", "0"))
        except ValueError:
            attempt = 0
        context = {"order_id": order_id, "next_attempt": attempt + 1, "keep_waiting": attempt < WAIT_ATTEMPTS}
        return render(request, "orders/order_waiting.html", context, status=404)


class OrderCancelView(LoginRequiredMixin, View):
    def post(self, request, order_id: uuid.UUID):
        try:
            services.order_cancel(
                order_id=order_id, user_id=request.user.id, reason=Order.CancelReason.CUSTOMER_REQUEST
            )
        except NotFound as error:
            raise Http404(error.message) from None
        except Conflict as error:
            messages.error(request, error.message + ".")
            return redirect("orders-detail", order_id=order_id)
        messages.success(request, "Your order is cancelled. Anything you paid is refunded to your card.")
        return redirect("orders-detail", order_id=order_id)
