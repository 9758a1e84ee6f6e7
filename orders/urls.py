from django.urls import path

from . import api

urlpatterns = [
    path("", api.OrderListApi.as_view(), name="order-list"),
    path("all/", api.OrderStaffListApi.as_view(), name="order-staff-list"),
    path("<uuid:order_id>/", api.OrderDetailApi.as_view(), name="order-detail"),
    path("<uuid:order_id>/cancel/", api.OrderCancelApi.as_view(), name="order-cancel"),
    path("<uuid:order_id>/ship/", api.OrderShipApi.as_view(), name="order-ship"),
    path("<uuid:order_id>/deliver/", api.OrderDeliverApi.as_view(), name="order-deliver"),
    path("<uuid:order_id>/staff-cancel/", api.OrderStaffCancelApi.as_view(), name="order-staff-cancel"),
]
