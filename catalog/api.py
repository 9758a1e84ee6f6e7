"""The catalog's JSON API: browse products; staff create, edit and restock them."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import permissions, serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from shopsite.limits import MAX_PRICE, MAX_STOCK
from shopsite.openapi import error_responses, list_responses
from shopsite.permissions import staff_permission
from shopsite.validators import no_control_characters

from . import images, selectors, services
from .models import ADD_PERMISSION, CHANGE_PERMISSION, STOCK_PERMISSION
from .selectors import ORDERINGS
from .services import MAX_DESCRIPTION


def _price_field(**kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0, **kwargs)


class ProductOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    sku = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField()
    category = serializers.CharField()
    price = serializers.DecimalField(max_digits=12, decimal_places=2)
    available = serializers.IntegerField(help_text="How many a customer may buy now; 0 when out of stock.")
    is_active = serializers.BooleanField()
    image_url = serializers.CharField(
        help_text="The product's image (at most 1600 pixels a side): a path on the shop such as /media/…, or an "
        "absolute URL when the images are in object storage. Empty when it has none."
    )
    thumbnail_url = serializers.CharField(help_text="Its thumbnail (at most 400 pixels a side), as image_url.")


class ProductFilterSerializer(serializers.Serializer):
    search = serializers.CharField(required=False, allow_blank=True, max_length=200, help_text="Part of a name or SKU.")
    category = serializers.CharField(required=False, allow_blank=True, max_length=100)
    min_price = _price_field(required=False)
    max_price = _price_field(required=False)
    ordering = serializers.ChoiceField(choices=sorted(ORDERINGS), required=False)

    def validate(self, attrs):
        low, high = attrs.get("min_price"), attrs.get("max_price")
        if low is not None and high is not None and low > high:
            raise serializers.ValidationError({"min_price": "Must not be above max_price."})
        return attrs


class ProductCreateInputSerializer(serializers.Serializer):
    sku = serializers.CharField(max_length=64, validators=[no_control_characters])
    name = serializers.CharField(max_length=200, validators=[no_control_characters])
    price = _price_field(max_value=MAX_PRICE)
    stock = serializers.IntegerField(min_value=0, max_value=MAX_STOCK)
    description = serializers.CharField(required=False, allow_blank=True, max_length=MAX_DESCRIPTION)
    category = serializers.CharField(required=False, allow_blank=True, max_length=100, validators=[no_control_characters])
    is_active = serializers.BooleanField(required=False, default=True)


class ProductUpdateInputSerializer(serializers.Serializer):
    name = serializers.CharField(required=False, max_length=200, validators=[no_control_characters])
    description = serializers.CharField(required=False, allow_blank=True, max_length=MAX_DESCRIPTION)
    category = serializers.CharField(required=False, allow_blank=True, max_length=100, validators=[no_control_characters])
    price = _price_field(required=False, max_value=MAX_PRICE)
    is_active = serializers.BooleanField(required=False)

    def validate(self, attrs):
        if not attrs:
            raise serializers.ValidationError("Send at least one of: " + ", ".join(self.fields))
        return attrs


class StockAdjustInputSerializer(serializers.Serializer):
    quantity_delta = serializers.IntegerField(
        min_value=-1_000_000, max_value=1_000_000, help_text="Units to add (positive) or remove (negative)."
    )


@extend_schema_field(OpenApiTypes.BINARY)
class _UploadedFileField(serializers.FileField):
    """A file in a multipart form: binary in the schema, not the URL a FileField is in an answer."""


class ProductImageInputSerializer(serializers.Serializer):
    image = _UploadedFileField(
        help_text=f"A {images.ACCEPTED} image of at most CATALOG_IMAGE_MAX_BYTES (5 MB unless set otherwise) and "
        "CATALOG_IMAGE_MAX_PIXELS (25 million pixels). The shop stores it re-encoded, at most 1600 pixels a side, with "
        "a thumbnail of at most 400; the file's name and declared type are ignored."
    )

    def validate_image(self, upload) -> images.PreparedImage:
        try:
            return images.image_prepare(upload)
        except images.InvalidImage as error:
            raise serializers.ValidationError(error.message) from None


class _StaffWritesMixin:
    # Anyone may read; writing needs a staff member with ``write_permission``.
    # (A comment, not a docstring: the schema would show a docstring as every
    # operation's description.)
    write_permission: str

    def get_permissions(self):
        if self.request.method in permissions.SAFE_METHODS:
            return [permissions.AllowAny()]
        return [staff_permission(self.write_permission)()]


class ProductListCreateApi(_StaffWritesMixin, GenericAPIView):
    write_permission = ADD_PERMISSION

    @extend_schema(
        parameters=[ProductFilterSerializer],
        responses=list_responses(ProductOutputSerializer, 400),
        summary="Browse the products on sale",
    )
    def get(self, request):
        filters = ProductFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        page = self.paginate_queryset(selectors.product_list(**filters.validated_data))
        return self.get_paginated_response(ProductOutputSerializer(page, many=True).data)

    @extend_schema(
        request=ProductCreateInputSerializer,
        responses={201: ProductOutputSerializer, **error_responses(400, 401, 403, 409)},
        summary="Staff: create a product",
    )
    def post(self, request):
        serializer = ProductCreateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        product = services.product_create(**serializer.validated_data)
        return Response(ProductOutputSerializer(product).data, status=status.HTTP_201_CREATED)


class ProductDetailUpdateApi(_StaffWritesMixin, APIView):
    write_permission = CHANGE_PERMISSION

    @extend_schema(
        responses={200: ProductOutputSerializer, **error_responses(404)},
        summary="One product on sale",
    )
    def get(self, request, product_id: int):
        product = selectors.product_get(product_id=product_id, active_only=True)
        return Response(ProductOutputSerializer(product).data)

    @extend_schema(
        request=ProductUpdateInputSerializer,
        responses={200: ProductOutputSerializer, **error_responses(400, 401, 403, 404)},
        summary="Staff: edit a product",
    )
    def patch(self, request, product_id: int):
        serializer = ProductUpdateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        product = services.product_update(product_id=product_id, **serializer.validated_data)
        return Response(ProductOutputSerializer(product).data)


class ProductStockAdjustApi(APIView):
    permission_classes = [staff_permission(STOCK_PERMISSION)]

    @extend_schema(
        request=StockAdjustInputSerializer,
        responses={200: ProductOutputSerializer, **error_responses(400, 401, 403, 404)},
        summary="Staff: add or remove stock",
    )
    def post(self, request, product_id: int):
        serializer = StockAdjustInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        product = services.stock_adjust(product_id=product_id, **serializer.validated_data)
        return Response(ProductOutputSerializer(product).data)


class ProductImageApi(APIView):
    permission_classes = [staff_permission(CHANGE_PERMISSION)]
    parser_classes = [MultiPartParser]
    # A multipart body may be as big as an image (shopsite.middleware).
    accepts_uploads = True

    @extend_schema(
        request={"multipart/form-data": ProductImageInputSerializer},
        responses={200: ProductOutputSerializer, **error_responses(400, 401, 403, 404, 413, 415)},
        summary="Staff: upload the product's image (replacing the one it has)",
    )
    def put(self, request, product_id: int):
        serializer = ProductImageInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        product = services.product_image_set(product_id=product_id, image=serializer.validated_data["image"])
        return Response(ProductOutputSerializer(product).data)

    @extend_schema(
        request=None,
        responses={200: ProductOutputSerializer, **error_responses(401, 403, 404)},
        summary="Staff: remove the product's image (the shop shows its initials again)",
    )
    def delete(self, request, product_id: int):
        product = services.product_image_remove(product_id=product_id)
        return Response(ProductOutputSerializer(product).data)
