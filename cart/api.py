"""The cart's JSON API. Checkout is served by the storefront (shopsite), which calls services.cart_checkout."""

from __future__ import annotations

from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from . import selectors, services
from .services import MAX_QUANTITY


class CartOutputSerializer(serializers.Serializer):
    class LineSerializer(serializers.Serializer):
        product_id = serializers.IntegerField()
        sku = serializers.CharField()
        name = serializers.CharField()
        unit_price = serializers.DecimalField(max_digits=12, decimal_places=2)
        quantity = serializers.IntegerField()
        line_total = serializers.DecimalField(max_digits=14, decimal_places=2)
        available = serializers.IntegerField()
        notice = serializers.CharField()

    lines = LineSerializer(many=True)
    total = serializers.DecimalField(max_digits=14, decimal_places=2)
    count = serializers.IntegerField()


def _cart_response(user_id: int, status_code: int = status.HTTP_200_OK) -> Response:
    return Response(CartOutputSerializer(selectors.cart_get(user_id=user_id)).data, status=status_code)


class CartDetailApi(APIView):
    def get(self, request):
        return _cart_response(request.user.id)


class CartItemAddApi(APIView):
    class InputSerializer(serializers.Serializer):
        product_id = serializers.IntegerField(min_value=1)
        quantity = serializers.IntegerField(min_value=1, max_value=MAX_QUANTITY, default=1)

    def post(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.cart_item_add(user_id=request.user.id, **serializer.validated_data)
        return _cart_response(request.user.id, status.HTTP_201_CREATED)


class CartItemUpdateRemoveApi(APIView):
    class InputSerializer(serializers.Serializer):
        quantity = serializers.IntegerField(min_value=0, max_value=MAX_QUANTITY)

    def patch(self, request, product_id: int):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.cart_item_set(user_id=request.user.id, product_id=product_id, **serializer.validated_data)
        return _cart_response(request.user.id)

    def delete(self, request, product_id: int):
        services.cart_item_remove(user_id=request.user.id, product_id=product_id)
        return Response(status=status.HTTP_204_NO_CONTENT)
