from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from accounts.urls import inbox_urlpatterns
from shopsite import metrics
from shopsite.health import healthz, readyz
from shopsite.media import media_urlpatterns
from shopsite.storefront.api import CheckoutApi

api_urlpatterns = [
    path("api/accounts/", include("accounts.urls")),
    path("api/notifications/", include(inbox_urlpatterns)),
    path("api/catalog/", include("catalog.urls")),
    # Checkout composes the cart with the payment step, so the storefront owns it.
    path("api/cart/checkout/", CheckoutApi.as_view(), name="cart-checkout"),
    path("api/cart/", include("cart.urls")),
    path("api/payments/", include("payments.urls")),
    path("api/orders/", include("orders.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves its start-up script as a file: no inline script for the CSP to allow.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
]

page_urlpatterns = [
    path("", include("catalog.page_urls")),
    path("accounts/", include("accounts.page_urls")),
    path("cart/", include("cart.page_urls")),
    path("orders/", include("orders.page_urls")),
    path("", include("shopsite.storefront.page_urls")),
]

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("metrics", metrics.view, name="metrics"),
    path("admin/", admin.site.urls),
    *api_urlpatterns,
    *page_urlpatterns,
    *media_urlpatterns(),
]

# Unknown URLs and requests refused before any view runs answer under /api/
# with the API's error body, like every other API error.
handler404 = "shopsite.errors.not_found"
handler400 = "shopsite.errors.malformed"
handler500 = "shopsite.errors.server_error"
