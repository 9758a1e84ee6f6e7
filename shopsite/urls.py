from django.contrib import admin
from django.urls import include, path

from accounts.urls import inbox_urlpatterns
from shopsite.storefront.api import CheckoutApi

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/accounts/", include("accounts.urls")),
    path("api/notifications/", include(inbox_urlpatterns)),
    path("api/catalog/", include("catalog.urls")),
    # Checkout composes the cart with the payment step, so the storefront owns it.
    path("api/cart/checkout/", CheckoutApi.as_view(), name="cart-checkout"),
    path("api/cart/", include("cart.urls")),
    path("api/payments/", include("payments.urls")),
    path("api/orders/", include("orders.urls")),
]
