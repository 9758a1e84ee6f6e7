"""Pages that compose several services: checkout."""

from django.urls import path

from . import views

urlpatterns = [
    path("checkout/", views.CheckoutCreateView.as_view(), name="storefront-checkout"),
]
