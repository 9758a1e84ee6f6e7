from django.urls import path

from .api import CartDetailApi, CartItemAddApi, CartItemUpdateRemoveApi

app_name = "cart"

urlpatterns = [
    path("", CartDetailApi.as_view(), name="cart-detail"),
    path("items/", CartItemAddApi.as_view(), name="cart-item-add"),
    path("items/<int:product_id>/", CartItemUpdateRemoveApi.as_view(), name="cart-item"),
]
