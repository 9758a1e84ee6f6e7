"""The accounts API: register, obtain a token, the profile and the notification inbox."""

from __future__ import annotations

from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from .selectors import inbox_list, user_summary
from .services import auth_token_obtain, inbox_mark_read, user_register, user_update


class UserRegisterApi(APIView):
    permission_classes = [AllowAny]

    class InputSerializer(serializers.Serializer):
        email = serializers.EmailField(max_length=254)
        password = serializers.CharField(max_length=128, trim_whitespace=False)
        name = serializers.CharField(max_length=150)

    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        email = serializers.EmailField()
        name = serializers.CharField()
        role = serializers.CharField()

    def post(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = user_register(**serializer.validated_data)
        return Response(self.OutputSerializer(user).data, status=status.HTTP_201_CREATED)


class AuthTokenCreateApi(APIView):
    permission_classes = [AllowAny]

    class InputSerializer(serializers.Serializer):
        email = serializers.CharField(max_length=254)
        password = serializers.CharField(max_length=128, trim_whitespace=False)

    def post(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        token = auth_token_obtain(**serializer.validated_data)
        return Response({"token": token.key})


class UserMeApi(APIView):
    """The signed-in user's own profile, with their order summary."""

    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=150, required=False)

    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        email = serializers.EmailField()
        name = serializers.CharField()
        role = serializers.CharField()
        is_staff = serializers.BooleanField()
        orders_count = serializers.IntegerField()
        total_spent = serializers.DecimalField(max_digits=None, decimal_places=2)

    def get(self, request):
        return Response(self._profile(request.user))

    def patch(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = user_update(user_id=request.user.id, **serializer.validated_data)
        return Response(self._profile(user))

    def _profile(self, user) -> dict:
        summary = user_summary(user_id=user.id)
        fields = {name: getattr(user, name) for name in ("id", "email", "name", "role", "is_staff")}
        return self.OutputSerializer({**fields, **summary}).data


class InboxItemOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="notification_id")
    order_id = serializers.UUIDField(allow_null=True)
    kind = serializers.CharField()
    subject = serializers.CharField()
    body = serializers.CharField()
    sent_at = serializers.DateTimeField()
    read = serializers.SerializerMethodField()

    def get_read(self, item) -> bool:
        return item.read_at is not None


class InboxListApi(GenericAPIView):
    def get(self, request):
        page = self.paginate_queryset(inbox_list(user_id=request.user.id))
        return self.get_paginated_response(InboxItemOutputSerializer(page, many=True).data)


class InboxItemReadApi(APIView):
    def post(self, request, notification_id):
        item = inbox_mark_read(user_id=request.user.id, notification_id=notification_id)
        return Response(InboxItemOutputSerializer(item).data)
