"""The payments API: a customer's cards and the charges made to them."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from shopsite.openapi import error_responses, list_responses

from .models import Charge
from .selectors import charge_filter, payment_method_get, payment_method_list
from .services import payment_method_create


class PaymentMethodCreateInputSerializer(serializers.Serializer):
    # Validation messages never repeat the submitted number.
    card_number = serializers.CharField(max_length=40, help_text="Tokenized at once; never stored or shown again.")
    exp_month = serializers.IntegerField(min_value=1, max_value=12)
    exp_year = serializers.IntegerField(min_value=0, max_value=9999, help_text="Four digits, or two for 20xx.")
    cvc = serializers.CharField(max_length=4)


class PaymentMethodOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    brand = serializers.CharField()
    last4 = serializers.CharField()
    exp_month = serializers.IntegerField()
    exp_year = serializers.IntegerField()
    created_at = serializers.DateTimeField()


class ChargeFilterSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Charge.Status.choices, required=False)


class ChargeOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    order_id = serializers.UUIDField()
    amount = serializers.DecimalField(max_digits=12, decimal_places=2)
    currency = serializers.CharField()
    status = serializers.ChoiceField(choices=Charge.Status.choices)
    failure_code = serializers.CharField(help_text="Why the gateway refused; empty for a successful charge.")
    refunded_amount = serializers.DecimalField(max_digits=12, decimal_places=2)
    created_at = serializers.DateTimeField()


class PaymentMethodListCreateApi(GenericAPIView):
    @extend_schema(
        responses=list_responses(PaymentMethodOutputSerializer, 401),
        summary="Your saved cards",
    )
    def get(self, request):
        page = self.paginate_queryset(payment_method_list(user_id=request.user.id))
        return self.get_paginated_response(PaymentMethodOutputSerializer(page, many=True).data)

    @extend_schema(
        request=PaymentMethodCreateInputSerializer,
        responses={201: PaymentMethodOutputSerializer, **error_responses(400, 401)},
        summary="Save a card",
    )
    def post(self, request):
        serializer = PaymentMethodCreateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        method = payment_method_create(user_id=request.user.id, **serializer.validated_data)
        return Response(PaymentMethodOutputSerializer(method).data, status=status.HTTP_201_CREATED)


class PaymentMethodDetailApi(APIView):
    @extend_schema(responses={200: PaymentMethodOutputSerializer, **error_responses(401, 404)}, summary="One of your cards")
    def get(self, request, method_id):
        method = payment_method_get(user_id=request.user.id, method_id=method_id)
        return Response(PaymentMethodOutputSerializer(method).data)


class ChargeListApi(GenericAPIView):
    @extend_schema(
        parameters=[ChargeFilterSerializer],
        responses=list_responses(ChargeOutputSerializer, 400, 401),
        summary="What your cards were charged, newest first",
    )
    def get(self, request):
        filters = ChargeFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        page = self.paginate_queryset(charge_filter(user_id=request.user.id, **filters.validated_data))
        return self.get_paginated_response(ChargeOutputSerializer(page, many=True).data)
