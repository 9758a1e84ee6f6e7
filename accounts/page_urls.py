"""The service's server-rendered pages (its JSON API is in urls.py)."""

from django.urls import path

from . import views

urlpatterns = [
    path("register/", views.UserRegisterView.as_view(), name="accounts-register"),
    path("login/", views.UserLoginView.as_view(), name="accounts-login"),
    path("logout/", views.UserLogoutView.as_view(), name="accounts-logout"),
    path("logout/everywhere/", views.UserLogoutEverywhereView.as_view(), name="accounts-logout-everywhere"),
    path("password/", views.UserPasswordChangeView.as_view(), name="accounts-password-change"),
    path("password/reset/", views.UserPasswordResetView.as_view(), name="accounts-password-reset"),
    path("password/reset/sent/", views.UserPasswordResetSentView.as_view(), name="accounts-password-reset-sent"),
    path(
        "password/reset/<uidb64>/<token>/",
        views.UserPasswordResetConfirmView.as_view(),
        name="accounts-password-reset-confirm",
    ),
    path(
        "password/reset/done/",
        views.UserPasswordResetCompleteView.as_view(),
        name="accounts-password-reset-complete",
    ),
    path("profile/", views.UserProfileView.as_view(), name="accounts-profile"),
    path("addresses/", views.AddressListView.as_view(), name="accounts-addresses"),
    path("addresses/new/", views.AddressCreateView.as_view(), name="accounts-address-create"),
    path("addresses/<uuid:address_id>/edit/", views.AddressUpdateView.as_view(), name="accounts-address-update"),
    path("addresses/<uuid:address_id>/delete/", views.AddressDeleteView.as_view(), name="accounts-address-delete"),
    path(
        "addresses/<uuid:address_id>/default/",
        views.AddressMakeDefaultView.as_view(),
        name="accounts-address-make-default",
    ),
    path("notifications/", views.InboxItemListView.as_view(), name="accounts-notifications"),
    path("notifications/read/", views.InboxItemReadAllView.as_view(), name="accounts-notifications-read-all"),
    path(
        "notifications/<uuid:notification_id>/read/",
        views.InboxItemReadView.as_view(),
        name="accounts-notification-read",
    ),
]
