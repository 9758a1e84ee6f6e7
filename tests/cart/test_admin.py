import pytest
from django.contrib.auth import get_user_model

from cart import services
from cart.models import CartLine

pytestmark = pytest.mark.django_db(databases=["default", "cart"])


def test_the_admin_pages_of_the_cart_render(client, make_product):
    admin_user = get_user_model().objects.create_superuser(email="admin@example.com", password="x", name="Admin")
    client.force_login(admin_user)
    mug = make_product()
    services.cart_item_add(user_id=7, product_id=mug.product_id)
    cart_id = CartLine.objects.get().cart_id

    for page in ["productreplica", "cart", "cartline", "checkout", "outboxmessage", "inboxmessage"]:
        assert client.get(f"/admin/cart/{page}/").status_code == 200, page
    assert client.get(f"/admin/cart/cart/{cart_id}/change/").status_code == 200
    assert client.get("/admin/cart/productreplica/add/").status_code == 403
