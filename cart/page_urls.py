"""The service's server-rendered pages (its JSON API is in urls.py)."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.CartDetailView.as_view(), name="cart-detail"),
    path("add/", views.CartItemAddView.as_view(), name="cart-add"),
    path("items/<int:product_id>/update/", views.CartItemUpdateView.as_view(), name="cart-item-update"),
    path("items/<int:product_id>/remove/", views.CartItemRemoveView.as_view(), name="cart-item-remove"),
    path("notices/clear/", views.CartNoticesClearView.as_view(), name="cart-notices-clear"),
]
