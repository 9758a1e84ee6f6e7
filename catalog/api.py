"""The catalog's JSON API: browse products; staff create, edit and restock them."""

from __future__ import annotations

from rest_framework import permissions, serializers, status
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from . import selectors, services
from .selectors import ORDERINGS


class IsCatalogStaff(permissions.BasePermission):
    """Staff or merchant, as accounts last told us through the user messages."""

    message = "Only staff may manage the catalog."

    def has_permission(self, request, view) -> bool:
        return selectors.user_is_staff(user_id=getattr(request.user, "id", None))


class ProductOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    sku = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField()
    category = serializers.CharField()
    price = serializers.DecimalField(max_digits=12, decimal_places=2)
    available = serializers.IntegerField()
    is_active = serializers.BooleanField()


def _price_field(**kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0, **kwargs)


class _StaffWritesMixin:
    """Anyone may read; writing needs a staff member."""

    def get_permissions(self):
        if self.request.method in permissions.SAFE_METHODS:
            return [permissions.AllowAny()]
        return [permissions.IsAuthenticated(), IsCatalogStaff()]


class ProductListCreateApi(_StaffWritesMixin, APIView):
    class FilterSerializer(serializers.Serializer):
        search = serializers.CharField(required=False, allow_blank=True, max_length=200)
        category = serializers.CharField(required=False, allow_blank=True, max_length=100)
        min_price = _price_field(required=False)
        max_price = _price_field(required=False)
        ordering = serializers.ChoiceField(choices=sorted(ORDERINGS), required=False)

        def validate(self, attrs):
            low, high = attrs.get("min_price"), attrs.get("max_price")
            if low is not None and high is not None and low > high:
                raise serializers.ValidationError({"min_price": "Must not be above max_price."})
            return attrs

    class InputSerializer(serializers.Serializer):
        sku = serializers.CharField(max_length=64)
        name = serializers.CharField(max_length=200)
        price = _price_field()
        stock = serializers.IntegerField(min_value=0)
        description = serializers.CharField(required=False, allow_blank=True)
        category = serializers.CharField(required=False, allow_blank=True, max_length=100)
        is_active = serializers.BooleanField(required=False, default=True)

    def get(self, request):
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        products = selectors.product_list(**filters.validated_data)
        paginator = api_settings.DEFAULT_PAGINATION_CLASS()
        page = paginator.paginate_queryset(products, request, view=self)
        return paginator.get_paginated_response(ProductOutputSerializer(page, many=True).data)

    def post(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        product = services.product_create(**serializer.validated_data)
        return Response(ProductOutputSerializer(product).data, status=status.HTTP_201_CREATED)


class ProductDetailUpdateApi(_StaffWritesMixin, APIView):
    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(required=False, max_length=200)
        description = serializers.CharField(required=False, allow_blank=True)
        category = serializers.CharField(required=False, allow_blank=True, max_length=100)
        price = _price_field(required=False)
        is_active = serializers.BooleanField(required=False)

        def validate(self, attrs):
            if not attrs:
                raise serializers.ValidationError("Send at least one of: " + ", ".join(self.fields))
            return attrs

    def get(self, request, product_id: int):
        product = selectors.product_get(product_id=product_id, active_only=True)
        return Response(ProductOutputSerializer(product).data)

    def patch(self, request, product_id: int):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        product = services.product_update(product_id=product_id, **serializer.validated_data)
        return Response(ProductOutputSerializer(product).data)


class ProductStockAdjustApi(APIView):
    permission_classes = [permissions.IsAuthenticated, IsCatalogStaff]

    class InputSerializer(serializers.Serializer):
        quantity_delta = serializers.IntegerField(min_value=-1_000_000, max_value=1_000_000)

    def post(self, request, product_id: int):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        product = services.stock_adjust(product_id=product_id, **serializer.validated_data)
        return Response(ProductOutputSerializer(product).data)
