"""Checkout: the one operation that spans several services.

The storefront checks the payment method with the payments service, takes a
saved address from the accounts service's address book if one is named, then
hands the cart service the checkout. It calls only the services' public
functions; the rest of the flow runs over the bus.
"""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import selectors as account_selectors
from cart import services as cart_services
from payments import selectors as payment_selectors
from shopsite import metrics
from shopsite.addresses import AddressSerializer
from shopsite.errors import ApplicationError
from shopsite.openapi import error_responses

MAX_KEY_LENGTH = 100

IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH},
    OpenApiParameter.HEADER,
    required=True,
    description=(
        f"Any string of 1 to {MAX_KEY_LENGTH} characters, new for each checkout. Sending the same key "
        "again returns the first checkout instead of placing a second order."
    ),
)


ONE_ADDRESS = "Send either shipping_address or shipping_address_id."


class CheckoutInputSerializer(serializers.Serializer):
    payment_method_id = serializers.UUIDField(help_text="One of your saved cards.")
    shipping_address = AddressSerializer(
        required=False,
        help_text=(
            "Where to ship, unless you send shipping_address_id. Errors in it are named by field inside it: "
            "`extra.fields.shipping_address.postal_code`, for example."
        ),
    )
    shipping_address_id = serializers.UUIDField(
        required=False,
        help_text="An address of your address book (/api/accounts/addresses/), instead of shipping_address.",
    )

    def to_internal_value(self, data):
        # Checked beside the fields rather than after them, so that one answer names every field at fault.
        given = [name for name in ("shipping_address", "shipping_address_id")
                 if hasattr(data, "get") and data.get(name) not in (None, "")]
        errors = {} if len(given) == 1 else {name: [ONE_ADDRESS] for name in given or ["shipping_address"]}
        try:
            attrs = super().to_internal_value(data)
        except serializers.ValidationError as error:
            raise serializers.ValidationError({**errors, **error.detail}) from None
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class CheckoutOutputSerializer(serializers.Serializer):
    order_id = serializers.UUIDField(help_text="Follow it at /api/orders/{order_id}/ once it is placed.")
    checkout_id = serializers.UUIDField(source="id")
    total = serializers.DecimalField(max_digits=14, decimal_places=2)


class CheckoutApi(APIView):
    throttle_scope = "checkout"

    @extend_schema(
        parameters=[IDEMPOTENCY_KEY],
        request=CheckoutInputSerializer,
        responses={202: CheckoutOutputSerializer, **error_responses(400, 401, 404, 429)},
        summary="Check out your cart",
        description=(
            "Accepted at once: the order is placed, stock reserved and the card charged by the services "
            "over the bus. Poll the order to see it reach confirmed or cancelled. The cart is empty as soon "
            "as this answers, so you may shop and check out again at once; if the order is cancelled "
            "because of stock or payment, its lines come back into the cart, each with a notice saying why. "
            "An empty cart is a 400."
        ),
        tags=["cart"],
    )
    def post(self, request):
        key = request.headers.get("Idempotency-Key", "").strip()
        if not key or len(key) > MAX_KEY_LENGTH:
            raise ApplicationError(
                f"Send an Idempotency-Key header (1 to {MAX_KEY_LENGTH} characters) with each checkout",
                {"fields": {"Idempotency-Key": [f"Required, 1 to {MAX_KEY_LENGTH} characters."]}},
            )
        data = CheckoutInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        method = payment_selectors.payment_method_get(
            user_id=request.user.id, method_id=data.validated_data["payment_method_id"]
        )
        address = data.validated_data.get("shipping_address")
        if address is None:
            saved = account_selectors.address_get(
                user_id=request.user.id, address_id=data.validated_data["shipping_address_id"]
            )
            address = saved.as_address()
        checkout = cart_services.cart_checkout(
            user_id=request.user.id,
            idempotency_key=key,
            payment_method_id=method.id,
            shipping_address=address,
        )
        return Response(CheckoutOutputSerializer(checkout).data, status=status.HTTP_202_ACCEPTED)

    def finalize_response(self, request, response, *args, **kwargs):
        # Every answer passes here, the refusals before the view ran (sign-in, throttling) too.
        if request.method == "POST" and response.status_code < 500:
            metrics.checkout_answered(accepted=response.status_code < 400)
        return super().finalize_response(request, response, *args, **kwargs)
