"""The accounts API: register, obtain and revoke tokens, the password, the profile, the address book and the
notification inbox."""

from __future__ import annotations

from django.contrib.auth import logout, update_session_auth_hash
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from shopsite.addresses import AddressOutputSerializer, AddressSerializer
from shopsite.limits import MAX_SAVED_ADDRESSES
from shopsite.openapi import error_responses, list_responses
from shopsite.validators import no_control_characters

from .models import ApiToken, User
from .selectors import address_get, address_list, inbox_filter, user_summary
from .services import (
    REGISTERED,
    address_create,
    address_delete,
    address_make_default,
    address_update,
    auth_token_obtain,
    auth_token_revoke,
    inbox_mark_all_read,
    inbox_mark_read,
    user_logout_everywhere,
    user_password_change,
    user_sign_up,
    user_update,
)


class UserRegisterInputSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(max_length=128, trim_whitespace=False)
    name = serializers.CharField(max_length=150, validators=[no_control_characters])


class UserRegisterOutputSerializer(serializers.Serializer):
    email = serializers.EmailField()
    message = serializers.CharField()


class UserOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    name = serializers.CharField()
    role = serializers.CharField()


class AuthTokenCreateInputSerializer(serializers.Serializer):
    email = serializers.CharField(max_length=254)
    password = serializers.CharField(max_length=128, trim_whitespace=False)


class AuthTokenOutputSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="Send it as `Authorization: Token <token>`. Shown only this once.")
    expires_at = serializers.DateTimeField(help_text="After this, log in again for a new token.")


class UserPasswordChangeInputSerializer(serializers.Serializer):
    old_password = serializers.CharField(max_length=128, trim_whitespace=False)
    new_password = serializers.CharField(max_length=128, trim_whitespace=False)


class UserMeUpdateInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=150, required=False, validators=[no_control_characters])
    email = serializers.EmailField(max_length=254, required=False)


class UserMeOutputSerializer(UserOutputSerializer):
    is_staff = serializers.BooleanField()
    orders_count = serializers.IntegerField(help_text="Orders confirmed, shipped or delivered.")
    total_spent = serializers.DecimalField(max_digits=14, decimal_places=2)


class InboxFilterSerializer(serializers.Serializer):
    # Query strings carry no "absent" boolean, so None stands for "either".
    unread = serializers.BooleanField(required=False, allow_null=True, default=None)
    kind = serializers.RegexField(r"^[a-z_]+$", max_length=50, required=False, help_text="For example order_shipped.")


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


class InboxReadAllOutputSerializer(serializers.Serializer):
    marked = serializers.IntegerField(help_text="How many were unread.")


class SavedAddressCreateInputSerializer(AddressSerializer):
    is_default = serializers.BooleanField(
        required=False, default=False, help_text="Make it your default address. Your first address is anyway."
    )

    def validate(self, attrs):
        is_default = attrs.pop("is_default")
        return {"address": super().validate(attrs), "is_default": is_default}


class SavedAddressInputSerializer(AddressSerializer):
    def validate(self, attrs):
        return {"address": super().validate(attrs)}


class SavedAddressUpdateInputSerializer(AddressSerializer):
    """Only the fields to change. The address they make is then checked as a whole."""

    def get_fields(self):
        fields = super().get_fields()
        for field in fields.values():
            field.required, field.default = False, serializers.empty
        return fields

    def validate(self, attrs):
        return attrs


class SavedAddressOutputSerializer(AddressOutputSerializer):
    id = serializers.UUIDField()
    is_default = serializers.BooleanField(help_text="Offered first at checkout. At most one address is the default.")
    lines = serializers.SerializerMethodField(
        help_text="The address as written on the parcel, the country's name last."
    )

    def get_lines(self, address) -> list[str]:
        return address.as_address().lines()


class UserRegisterApi(APIView):
    permission_classes = [AllowAny]
    throttle_scope = "register"

    @extend_schema(
        request=UserRegisterInputSerializer,
        responses={201: UserRegisterOutputSerializer, **error_responses(400, 429)},
        summary="Create a customer account",
        description=(
            "The answer is the same whether the email was new or already had an account, so it tells no one "
            "who is a customer; the owner of a taken email gets an email saying so instead. Then obtain a token."
        ),
    )
    def post(self, request):
        serializer = UserRegisterInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user_sign_up(**serializer.validated_data)
        email = User.objects.normalize_email(serializer.validated_data["email"])
        return Response({"email": email, "message": REGISTERED}, status=status.HTTP_201_CREATED)


class AuthTokenCreateApi(APIView):
    permission_classes = [AllowAny]
    throttle_scope = "login"

    @extend_schema(
        request=AuthTokenCreateInputSerializer,
        responses={200: AuthTokenOutputSerializer, **error_responses(400, 429)},
        summary="Exchange an email and password for an API token",
        description=(
            "After repeated failures for one email from one address, that pair is locked out for a while: "
            "even the right password gets 429 until then."
        ),
    )
    def post(self, request):
        serializer = AuthTokenCreateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        token, key = auth_token_obtain(**serializer.validated_data, request=request)
        return Response(AuthTokenOutputSerializer({"token": key, "expires_at": token.expires_at}).data)


class UserLogoutApi(APIView):
    @extend_schema(
        request=None,
        responses={204: OpenApiResponse(description="Logged out."), **error_responses(401)},
        summary="Log out: revoke the token of this request",
        description="Signed in with a session instead, that session ends. Your other tokens keep working.",
    )
    def post(self, request):
        if isinstance(request.auth, ApiToken):
            auth_token_revoke(token_id=request.auth.pk)
        else:
            logout(request)
        return Response(status=status.HTTP_204_NO_CONTENT)


class UserLogoutEverywhereApi(APIView):
    @extend_schema(
        request=None,
        responses={204: OpenApiResponse(description="Logged out everywhere."), **error_responses(401)},
        summary="Log out everywhere: revoke all your tokens and end all your sessions",
    )
    def post(self, request):
        user_logout_everywhere(user_id=request.user.id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class UserPasswordChangeApi(APIView):
    @extend_schema(
        request=UserPasswordChangeInputSerializer,
        responses={204: OpenApiResponse(description="Changed."), **error_responses(400, 401)},
        summary="Change your password",
        description=(
            "Revokes all your tokens, this request's included: log in again for a new one. "
            "Your other sessions end; a session making this request stays signed in."
        ),
    )
    def post(self, request):
        serializer = UserPasswordChangeInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = user_password_change(user=request.user, **serializer.validated_data)
        if not isinstance(request.auth, ApiToken):
            update_session_auth_hash(request, user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class UserMeDetailUpdateApi(APIView):
    """The signed-in user's own profile, with their order summary."""

    @extend_schema(responses={200: UserMeOutputSerializer, **error_responses(401)}, summary="Your profile")
    def get(self, request):
        return Response(self._profile(request.user))

    @extend_schema(
        request=UserMeUpdateInputSerializer,
        responses={200: UserMeOutputSerializer, **error_responses(400, 401)},
        summary="Change your name or email",
    )
    def patch(self, request):
        serializer = UserMeUpdateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = user_update(user_id=request.user.id, **serializer.validated_data)
        return Response(self._profile(user))

    def _profile(self, user) -> dict:
        summary = user_summary(user_id=user.id)
        fields = {name: getattr(user, name) for name in ("id", "email", "name", "role", "is_staff")}
        return UserMeOutputSerializer({**fields, **summary}).data


class InboxListApi(GenericAPIView):
    @extend_schema(
        parameters=[InboxFilterSerializer],
        responses=list_responses(InboxItemOutputSerializer, 400, 401),
        summary="What the shop told you, newest first",
    )
    def get(self, request):
        filters = InboxFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        page = self.paginate_queryset(inbox_filter(user_id=request.user.id, **filters.validated_data))
        return self.get_paginated_response(InboxItemOutputSerializer(page, many=True).data)


class InboxItemReadApi(APIView):
    @extend_schema(
        request=None,
        responses={200: InboxItemOutputSerializer, **error_responses(401, 404)},
        summary="Mark a notification read",
        operation_id="notifications_mark_read",
    )
    def post(self, request, notification_id):
        item = inbox_mark_read(user_id=request.user.id, notification_id=notification_id)
        return Response(InboxItemOutputSerializer(item).data)


class InboxReadAllApi(APIView):
    @extend_schema(
        request=None,
        responses={200: InboxReadAllOutputSerializer, **error_responses(401)},
        summary="Mark every notification read",
        operation_id="notifications_mark_all_read",
    )
    def post(self, request):
        marked = inbox_mark_all_read(user_id=request.user.id)
        return Response(InboxReadAllOutputSerializer({"marked": marked}).data)


ADDRESS_BOOK_TAGS = ["address book"]


class AddressListCreateApi(GenericAPIView):
    @extend_schema(
        responses=list_responses(SavedAddressOutputSerializer, 401),
        summary="Your address book, the default first",
        tags=ADDRESS_BOOK_TAGS,
    )
    def get(self, request):
        page = self.paginate_queryset(address_list(user_id=request.user.id))
        return self.get_paginated_response(SavedAddressOutputSerializer(page, many=True).data)

    @extend_schema(
        request=SavedAddressCreateInputSerializer,
        responses={201: SavedAddressOutputSerializer, **error_responses(400, 401)},
        summary="Add an address to your address book",
        description=(
            f"The book holds at most {MAX_SAVED_ADDRESSES} addresses. Your first address becomes your default. "
            "Invalid fields are named in `extra.fields`."
        ),
        tags=ADDRESS_BOOK_TAGS,
    )
    def post(self, request):
        serializer = SavedAddressCreateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        address = address_create(user_id=request.user.id, **serializer.validated_data)
        return Response(SavedAddressOutputSerializer(address).data, status=status.HTTP_201_CREATED)


class AddressDetailApi(APIView):
    @extend_schema(
        responses={200: SavedAddressOutputSerializer, **error_responses(401, 404)},
        summary="One address of your address book",
        tags=ADDRESS_BOOK_TAGS,
    )
    def get(self, request, address_id):
        return Response(SavedAddressOutputSerializer(address_get(user_id=request.user.id, address_id=address_id)).data)

    @extend_schema(
        request=SavedAddressInputSerializer,
        responses={200: SavedAddressOutputSerializer, **error_responses(400, 401, 404)},
        summary="Replace an address of your address book",
        description="Send the whole address. Whether it is your default does not change.",
        tags=ADDRESS_BOOK_TAGS,
    )
    def put(self, request, address_id):
        return self._update(request, address_id, request.data)

    @extend_schema(
        request=SavedAddressUpdateInputSerializer,
        responses={200: SavedAddressOutputSerializer, **error_responses(400, 401, 404)},
        summary="Change some fields of an address of your address book",
        tags=ADDRESS_BOOK_TAGS,
    )
    def patch(self, request, address_id):
        changes = SavedAddressUpdateInputSerializer(data=request.data)
        changes.is_valid(raise_exception=True)
        current = address_get(user_id=request.user.id, address_id=address_id).as_address().model_dump()
        return self._update(request, address_id, {**current, **changes.validated_data})

    @extend_schema(
        request=None,
        responses={204: OpenApiResponse(description="Deleted."), **error_responses(401, 404)},
        summary="Delete an address from your address book",
        description="If it was your default, your oldest address left becomes the default.",
        tags=ADDRESS_BOOK_TAGS,
    )
    def delete(self, request, address_id):
        address_delete(user_id=request.user.id, address_id=address_id)
        return Response(status=status.HTTP_204_NO_CONTENT)

    def _update(self, request, address_id, data):
        serializer = SavedAddressInputSerializer(data=data)
        serializer.is_valid(raise_exception=True)
        address = address_update(user_id=request.user.id, address_id=address_id, **serializer.validated_data)
        return Response(SavedAddressOutputSerializer(address).data)


class AddressMakeDefaultApi(APIView):
    @extend_schema(
        request=None,
        responses={200: SavedAddressOutputSerializer, **error_responses(401, 404)},
        summary="Make an address your default",
        description="The checkout offers it first. Your previous default stays in the book.",
        tags=ADDRESS_BOOK_TAGS,
    )
    def post(self, request, address_id):
        address = address_make_default(user_id=request.user.id, address_id=address_id)
        return Response(SavedAddressOutputSerializer(address).data)
