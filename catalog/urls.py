from django.urls import path

from .api import ProductDetailUpdateApi, ProductImageApi, ProductListCreateApi, ProductStockAdjustApi

app_name = "catalog"

urlpatterns = [
    path("products/", ProductListCreateApi.as_view(), name="product-list"),
    path("products/<int:product_id>/", ProductDetailUpdateApi.as_view(), name="product-detail"),
    path("products/<int:product_id>/stock/", ProductStockAdjustApi.as_view(), name="product-stock"),
    path("products/<int:product_id>/image/", ProductImageApi.as_view(), name="product-image"),
]
