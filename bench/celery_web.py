"""The Celery saga's checkout: ``POST /bench/celery-checkout/``, beside every URL of the shop.

The request is handled as the shop's checkout handles it (the same token
authentication, throttle, input serializer and payment method check: the view
is the shop's ``CheckoutApi`` with another ``post``), then the cart checkout
is written in one transaction on the cart's database and the Celery chain is
sent from ``transaction.on_commit``, the usual Django+Celery way: no task
runs for a checkout that rolled back. A process that dies (or a broker that
is unreachable) between the commit and the publish loses the order: the cart
is emptied into a checkout, the customer got no answer or a 500, and no task
ever runs for it (there is no outbox to publish it later).
"""

from __future__ import annotations

from django.urls import path
from rest_framework import status
from rest_framework.response import Response

from payments import selectors as payment_selectors
from shopsite.errors import ApplicationError
from shopsite.storefront.api import MAX_KEY_LENGTH, CheckoutApi, CheckoutInputSerializer
from shopsite.urls import urlpatterns as shop_urlpatterns

from . import saga_writes
from .celery_saga_app import saga


def _start_saga(order: saga_writes.SagaOrder) -> None:
    saga(order).apply_async()


class CeleryCheckoutApi(CheckoutApi):
    def post(self, request):
        key = request.headers.get("Idempotency-Key", "").strip()
        if not key or len(key) > MAX_KEY_LENGTH:
            raise ApplicationError(f"Send an Idempotency-Key header (1 to {MAX_KEY_LENGTH} characters)")
        data = CheckoutInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        if "shipping_address" not in data.validated_data:
            raise ApplicationError("The bench's checkout takes a shipping_address, not an address book entry.")
        method = payment_selectors.payment_method_get(
            user_id=request.user.id, method_id=data.validated_data["payment_method_id"]
        )
        try:
            order, _ = saga_writes.checkout_create(
                user_id=request.user.id, idempotency_key=key, payment_method_id=method.id,
                shipping_address=dict(data.validated_data["shipping_address"]), then=_start_saga,
            )
        except saga_writes.SagaStepFailed as failed:
            raise ApplicationError(str(failed)) from None
        return Response({"order_id": order["order_id"], "checkout_id": order["checkout_id"], "total": order["total"]},
                        status=status.HTTP_202_ACCEPTED)


urlpatterns = [path("bench/celery-checkout/", CeleryCheckoutApi.as_view(), name="bench-celery-checkout"),
               *shop_urlpatterns]
