"""The cart's JSON API. Checkout is served by the storefront (shopsite), which calls services.cart_checkout."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from shopsite.limits import MAX_QUANTITY
from shopsite.openapi import error_responses

from . import selectors, services


class CartLineOutputSerializer(serializers.Serializer):
    product_id = serializers.IntegerField()
    sku = serializers.CharField()
    name = serializers.CharField()
    unit_price = serializers.DecimalField(max_digits=12, decimal_places=2)
    quantity = serializers.IntegerField()
    line_total = serializers.DecimalField(max_digits=14, decimal_places=2)
    available = serializers.IntegerField()
    notice = serializers.CharField(
        help_text="What changed since the line was added (price, stock), or why it came back from a cancelled "
        "order; may be empty."
    )
    image_url = serializers.CharField(
        help_text="The product's image, as the catalog's product API gives it (a path on the shop or an absolute "
        "URL); empty when it has none."
    )
    thumbnail_url = serializers.CharField(help_text="Its thumbnail, as image_url.")


class CartOutputSerializer(serializers.Serializer):
    lines = CartLineOutputSerializer(many=True)
    total = serializers.DecimalField(max_digits=14, decimal_places=2)
    count = serializers.IntegerField(help_text="How many items, counting each unit.")


class CartItemAddInputSerializer(serializers.Serializer):
    product_id = serializers.IntegerField(min_value=1, max_value=2**63 - 1)  # the biggest id a database holds
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_QUANTITY, default=1)


class CartItemSetInputSerializer(serializers.Serializer):
    quantity = serializers.IntegerField(min_value=0, max_value=MAX_QUANTITY, help_text="0 removes the line.")


def _cart_response(user_id: int, status_code: int = status.HTTP_200_OK) -> Response:
    return Response(CartOutputSerializer(selectors.cart_get(user_id=user_id)).data, status=status_code)


class CartDetailApi(APIView):
    @extend_schema(responses={200: CartOutputSerializer, **error_responses(401)}, summary="Your cart")
    def get(self, request):
        return _cart_response(request.user.id)


class CartItemAddApi(APIView):
    @extend_schema(
        request=CartItemAddInputSerializer,
        responses={201: CartOutputSerializer, **error_responses(400, 401, 404)},
        summary="Put a product in your cart",
    )
    def post(self, request):
        serializer = CartItemAddInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.cart_item_add(user_id=request.user.id, **serializer.validated_data)
        return _cart_response(request.user.id, status.HTTP_201_CREATED)


class CartItemUpdateRemoveApi(APIView):
    @extend_schema(
        request=CartItemSetInputSerializer,
        responses={200: CartOutputSerializer, **error_responses(400, 401, 404)},
        summary="Change how many of a product are in your cart",
    )
    def patch(self, request, product_id: int):
        serializer = CartItemSetInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.cart_item_set(user_id=request.user.id, product_id=product_id, **serializer.validated_data)
        return _cart_response(request.user.id)

    @extend_schema(
        responses={204: OpenApiResponse(description="Removed."), **error_responses(401, 404)},
        summary="Take a product out of your cart",
    )
    def delete(self, request, product_id: int):
        services.cart_item_remove(user_id=request.user.id, product_id=product_id)
        return Response(status=status.HTTP_204_NO_CONTENT)
