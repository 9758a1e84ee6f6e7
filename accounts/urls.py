from django.urls import path

from .api import (
    AddressDetailApi,
    AddressListCreateApi,
    AddressMakeDefaultApi,
    AuthTokenCreateApi,
    InboxItemReadApi,
    InboxListApi,
    InboxReadAllApi,
    UserLogoutApi,
    UserLogoutEverywhereApi,
    UserMeDetailUpdateApi,
    UserPasswordChangeApi,
    UserRegisterApi,
)

urlpatterns = [
    path("register/", UserRegisterApi.as_view(), name="account-register"),
    path("token/", AuthTokenCreateApi.as_view(), name="account-token"),
    path("logout/", UserLogoutApi.as_view(), name="account-logout"),
    path("logout-everywhere/", UserLogoutEverywhereApi.as_view(), name="account-logout-everywhere"),
    path("password/", UserPasswordChangeApi.as_view(), name="account-password"),
    path("me/", UserMeDetailUpdateApi.as_view(), name="account-me"),
    path("addresses/", AddressListCreateApi.as_view(), name="account-address-list"),
    path("addresses/<uuid:address_id>/", AddressDetailApi.as_view(), name="account-address-detail"),
    path("addresses/<uuid:address_id>/default/", AddressMakeDefaultApi.as_view(), name="account-address-default"),
]

# Mounted at /api/notifications/ by shopsite.urls: the inbox is the accounts
# service's replica of what the notifications service sent.
inbox_urlpatterns = [
    path("", InboxListApi.as_view(), name="inbox-list"),
    path("read/", InboxReadAllApi.as_view(), name="inbox-read-all"),
    path("<uuid:notification_id>/read/", InboxItemReadApi.as_view(), name="inbox-item-read"),
]
