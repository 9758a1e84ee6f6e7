from django.urls import path

from . import api

urlpatterns = [
    path("", api.OrderListApi.as_view(), name="order-list"),
    path("<uuid:order_id>/", api.OrderDetailApi.as_view(), name="order-detail"),
    path("<uuid:order_id>/cancel/", api.OrderCancelApi.as_view(), name="order-cancel"),
]
