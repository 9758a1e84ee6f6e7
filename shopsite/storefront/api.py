"""Checkout: the one operation that spans two services.

The storefront checks the payment method with the payments service, then
hands the cart service the checkout. It calls only the services' public
functions; the rest of the flow runs over the bus.
"""

from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from cart import services as cart_services
from payments import selectors as payment_selectors
from shopsite.errors import ApplicationError


class CheckoutInputSerializer(serializers.Serializer):
    payment_method_id = serializers.UUIDField()
    shipping_address = serializers.CharField(max_length=500)


class CheckoutApi(APIView):
    def post(self, request):
        key = request.headers.get("Idempotency-Key", "").strip()
        if not key or len(key) > 100:
            raise ApplicationError("Send an Idempotency-Key header (1 to 100 characters) with each checkout")
        data = CheckoutInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        method = payment_selectors.payment_method_get(
            user_id=request.user.id, method_id=data.validated_data["payment_method_id"]
        )
        checkout = cart_services.cart_checkout(
            user_id=request.user.id,
            idempotency_key=key,
            payment_method_id=method.id,
            shipping_address=data.validated_data["shipping_address"],
        )
        return Response(
            {"order_id": str(checkout.order_id), "checkout_id": str(checkout.id), "total": str(checkout.total)},
            status=status.HTTP_202_ACCEPTED,
        )
