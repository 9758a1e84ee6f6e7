"""The payments API: a customer's cards and the charges made to them."""

from __future__ import annotations

from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from .selectors import charge_list, payment_method_get, payment_method_list
from .services import payment_method_create


class PaymentMethodOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    brand = serializers.CharField()
    last4 = serializers.CharField()
    exp_month = serializers.IntegerField()
    exp_year = serializers.IntegerField()
    created_at = serializers.DateTimeField()


class PaymentMethodListCreateApi(GenericAPIView):
    class InputSerializer(serializers.Serializer):
        # Validation messages never repeat the submitted number.
        card_number = serializers.CharField(max_length=40)
        exp_month = serializers.IntegerField(min_value=1, max_value=12)
        exp_year = serializers.IntegerField(min_value=0, max_value=9999)
        cvc = serializers.CharField(max_length=4)

    def get(self, request):
        page = self.paginate_queryset(payment_method_list(user_id=request.user.id))
        return self.get_paginated_response(PaymentMethodOutputSerializer(page, many=True).data)

    def post(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        method = payment_method_create(user_id=request.user.id, **serializer.validated_data)
        return Response(PaymentMethodOutputSerializer(method).data, status=status.HTTP_201_CREATED)


class PaymentMethodDetailApi(APIView):
    def get(self, request, method_id):
        method = payment_method_get(user_id=request.user.id, method_id=method_id)
        return Response(PaymentMethodOutputSerializer(method).data)


class ChargeListApi(GenericAPIView):
    class OutputSerializer(serializers.Serializer):
        id = serializers.UUIDField()
        order_id = serializers.UUIDField()
        amount = serializers.DecimalField(max_digits=12, decimal_places=2)
        currency = serializers.CharField()
        status = serializers.CharField()
        failure_code = serializers.CharField()
        refunded_amount = serializers.DecimalField(max_digits=12, decimal_places=2)
        created_at = serializers.DateTimeField()

    def get(self, request):
        page = self.paginate_queryset(charge_list(user_id=request.user.id))
        return self.get_paginated_response(self.OutputSerializer(page, many=True).data)
