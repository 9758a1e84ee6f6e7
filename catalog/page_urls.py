"""The service's server-rendered pages (its JSON API is in urls.py)."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.ProductListView.as_view(), name="catalog-home"),
    path("products/<int:product_id>/", views.ProductDetailView.as_view(), name="catalog-product-detail"),
]
