"""The orders API: a customer's orders and their timeline; staff ship, deliver and cancel any order."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from shopsite.addresses import AddressOutputSerializer
from shopsite.openapi import error_responses, list_responses
from shopsite.permissions import staff_permission

from . import selectors, services
from .models import CANCEL_PERMISSION, DELIVER_PERMISSION, SHIP_PERMISSION, VIEW_PERMISSION, Order, OrderEvent


class OrderLineOutputSerializer(serializers.Serializer):
    product_id = serializers.IntegerField()
    sku = serializers.CharField()
    name = serializers.CharField()
    unit_price = serializers.DecimalField(max_digits=12, decimal_places=2)
    quantity = serializers.IntegerField()
    line_total = serializers.DecimalField(max_digits=12, decimal_places=2)
    image_url = serializers.CharField(
        help_text="The product's image when it was ordered (a path on the shop or an absolute URL); empty when "
        "it had none."
    )
    thumbnail_url = serializers.CharField(help_text="Its thumbnail, as image_url.")


class OrderEventOutputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=OrderEvent.Kind.choices)
    detail = serializers.CharField()
    occurred_at = serializers.DateTimeField()


class ShippingAddressOutputSerializer(AddressOutputSerializer):
    """The fields are empty for an order placed before addresses had fields: its ``text`` is the address."""

    name = serializers.CharField(default="")
    line1 = serializers.CharField(default="")
    line2 = serializers.CharField(default="")
    city = serializers.CharField(default="")
    region = serializers.CharField(default="")
    postal_code = serializers.CharField(default="")
    country = serializers.CharField(default="", help_text="ISO 3166-1 alpha-2.")
    text = serializers.CharField(
        default="", help_text="Only for an order placed before addresses had fields: its address as written."
    )


class OrderSummaryOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    status = serializers.ChoiceField(choices=Order.Status.choices)
    cancel_reason = serializers.ChoiceField(
        choices=Order.CancelReason.choices, allow_blank=True, help_text="Empty unless the order is cancelled."
    )
    total = serializers.DecimalField(max_digits=12, decimal_places=2)
    currency = serializers.CharField()
    created_at = serializers.DateTimeField()


class OrderDetailOutputSerializer(OrderSummaryOutputSerializer):
    shipping_address = ShippingAddressOutputSerializer()
    lines = OrderLineOutputSerializer(many=True)
    timeline = OrderEventOutputSerializer(many=True, source="events", help_text="What happened, oldest first.")


class OrderStaffOutputSerializer(OrderSummaryOutputSerializer):
    user_id = serializers.IntegerField()
    updated_at = serializers.DateTimeField()


class OrderFilterSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Order.Status.choices, required=False)


class OrderStaffFilterSerializer(OrderFilterSerializer):
    # Bounded like the ids of the users table.
    user_id = serializers.IntegerField(
        min_value=1, max_value=2**63 - 1, required=False, help_text="Only this customer's orders."
    )


class OrderListApi(GenericAPIView):
    @extend_schema(
        parameters=[OrderFilterSerializer],
        responses=list_responses(OrderSummaryOutputSerializer, 400, 401),
        summary="Your orders, newest first",
    )
    def get(self, request):
        filters = OrderFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        page = self.paginate_queryset(selectors.order_list(user_id=request.user.id, **filters.validated_data))
        return self.get_paginated_response(OrderSummaryOutputSerializer(page, many=True).data)


class OrderDetailApi(APIView):
    @extend_schema(
        responses={200: OrderDetailOutputSerializer, **error_responses(401, 404)},
        summary="One of your orders, with its lines and timeline",
    )
    def get(self, request, order_id):
        order = selectors.order_get(user_id=request.user.id, order_id=order_id)
        return Response(OrderDetailOutputSerializer(order).data)


class OrderCancelApi(APIView):
    @extend_schema(
        request=None,
        responses={202: OrderSummaryOutputSerializer, **error_responses(401, 404, 409)},
        summary="Cancel one of your orders before it ships (a paid order is refunded)",
    )
    def post(self, request, order_id):
        order = services.order_cancel(
            order_id=order_id, user_id=request.user.id, reason=Order.CancelReason.CUSTOMER_REQUEST
        )
        return Response(OrderSummaryOutputSerializer(order).data, status=status.HTTP_202_ACCEPTED)


class OrderStaffListApi(GenericAPIView):
    permission_classes = [staff_permission(VIEW_PERMISSION)]

    @extend_schema(
        parameters=[OrderStaffFilterSerializer],
        responses=list_responses(OrderStaffOutputSerializer, 400, 401, 403),
        summary="Staff: every customer's orders, newest first",
    )
    def get(self, request):
        filters = OrderStaffFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        page = self.paginate_queryset(selectors.order_list_all(**filters.validated_data))
        return self.get_paginated_response(OrderStaffOutputSerializer(page, many=True).data)


class OrderShipApi(APIView):
    permission_classes = [staff_permission(SHIP_PERMISSION)]

    @extend_schema(
        request=None,
        responses={200: OrderStaffOutputSerializer, **error_responses(401, 403, 404, 409)},
        summary="Staff: mark a confirmed order shipped",
    )
    def post(self, request, order_id):
        order = services.order_ship(order_id=order_id)
        return Response(OrderStaffOutputSerializer(order).data)


class OrderDeliverApi(APIView):
    permission_classes = [staff_permission(DELIVER_PERMISSION)]

    @extend_schema(
        request=None,
        responses={200: OrderStaffOutputSerializer, **error_responses(401, 403, 404, 409)},
        summary="Staff: mark a shipped order delivered",
    )
    def post(self, request, order_id):
        order = services.order_deliver(order_id=order_id)
        return Response(OrderStaffOutputSerializer(order).data)


class OrderStaffCancelApi(APIView):
    permission_classes = [staff_permission(CANCEL_PERMISSION)]

    @extend_schema(
        request=None,
        responses={202: OrderStaffOutputSerializer, **error_responses(401, 403, 404, 409)},
        summary="Staff: cancel any order before it ships (a paid order is refunded)",
    )
    def post(self, request, order_id):
        order = services.order_cancel(order_id=order_id, reason=Order.CancelReason.STAFF_REQUEST)
        return Response(OrderStaffOutputSerializer(order).data, status=status.HTTP_202_ACCEPTED)
