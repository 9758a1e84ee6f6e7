from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from shopsite.errors import ApplicationError

from . import selectors, services
from .models import Order


class OrderLineSerializer(serializers.Serializer):
    product_id = serializers.IntegerField()
    sku = serializers.CharField()
    name = serializers.CharField()
    unit_price = serializers.DecimalField(max_digits=12, decimal_places=2)
    quantity = serializers.IntegerField()
    line_total = serializers.DecimalField(max_digits=12, decimal_places=2)


class OrderEventSerializer(serializers.Serializer):
    kind = serializers.CharField()
    detail = serializers.CharField()
    occurred_at = serializers.DateTimeField()


class OrderSummarySerializer(serializers.Serializer):
    id = serializers.UUIDField()
    status = serializers.CharField()
    cancel_reason = serializers.CharField()
    total = serializers.DecimalField(max_digits=12, decimal_places=2)
    currency = serializers.CharField()
    created_at = serializers.DateTimeField()


class OrderDetailSerializer(OrderSummarySerializer):
    shipping_address = serializers.CharField()
    lines = OrderLineSerializer(many=True)
    timeline = OrderEventSerializer(many=True, source="events")


class OrderListApi(ListAPIView):
    serializer_class = OrderSummarySerializer

    def get_queryset(self):
        wanted = self.request.query_params.get("status")
        if wanted and wanted not in Order.Status.values:
            raise ApplicationError(f"Unknown status {wanted!r}", {"allowed": Order.Status.values})
        return selectors.order_list(user_id=self.request.user.id, status=wanted)


class OrderDetailApi(APIView):
    def get(self, request, order_id):
        order = selectors.order_get(user_id=request.user.id, order_id=order_id)
        return Response(OrderDetailSerializer(order).data)


class OrderCancelApi(APIView):
    def post(self, request, order_id):
        order = services.order_cancel(order_id=order_id, user_id=request.user.id,
                                      reason=Order.CancelReason.CUSTOMER_REQUEST)
        return Response(OrderSummarySerializer(order).data, status=status.HTTP_202_ACCEPTED)
