from django.urls import path

from .api import ProductDetailUpdateApi, ProductListCreateApi, ProductStockAdjustApi

app_name = "catalog"

urlpatterns = [
    path("products/", ProductListCreateApi.as_view(), name="product-list"),
    path("products/<int:product_id>/", ProductDetailUpdateApi.as_view(), name="product-detail"),
    path("products/<int:product_id>/stock/", ProductStockAdjustApi.as_view(), name="product-stock"),
]
