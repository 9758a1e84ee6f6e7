"""The service's server-rendered pages (its JSON API is in urls.py)."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.OrderListView.as_view(), name="orders-list"),
    path("<uuid:order_id>/", views.OrderDetailView.as_view(), name="orders-detail"),
    path("<uuid:order_id>/cancel/", views.OrderCancelView.as_view(), name="orders-cancel"),
]
