from django.urls import path

from .api import ChargeListApi, PaymentMethodDetailApi, PaymentMethodListCreateApi

urlpatterns = [
    path("methods/", PaymentMethodListCreateApi.as_view(), name="payment-method-list"),
    path("methods/<uuid:method_id>/", PaymentMethodDetailApi.as_view(), name="payment-method-detail"),
    path("charges/", ChargeListApi.as_view(), name="charge-list"),
]
