"""Which Django permission each staff operation of the API needs, written down once.

The API and admin tests check the code against this list; a staff operation
added to the schema without an entry here fails tests/security/test_staff_permissions.py.
"""

from django.contrib.auth.models import Permission

STAFF_PERMISSIONS = {
    ("get", "/api/orders/all/"): "orders.view_order",
    ("post", "/api/orders/{order_id}/ship/"): "orders.ship_order",
    ("post", "/api/orders/{order_id}/deliver/"): "orders.deliver_order",
    ("post", "/api/orders/{order_id}/staff-cancel/"): "orders.cancel_order",
    ("post", "/api/catalog/products/"): "catalog.add_product",
    ("patch", "/api/catalog/products/{product_id}/"): "catalog.change_product",
    ("post", "/api/catalog/products/{product_id}/stock/"): "catalog.adjust_stock",
    ("put", "/api/catalog/products/{product_id}/image/"): "catalog.change_product",
    ("delete", "/api/catalog/products/{product_id}/image/"): "catalog.change_product",
}


def permissions(*names: str) -> list[Permission]:
    """The Permission rows of ``"<app_label>.<codename>"`` names; each must exist."""
    return [
        Permission.objects.get(content_type__app_label=app_label, codename=codename)
        for app_label, codename in (name.split(".") for name in names)
    ]
