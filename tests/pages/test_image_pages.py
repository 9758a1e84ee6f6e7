"""Each page that shows a product shows its image when it has one, and the lettered tile when it has none.

The image travels as in the shop: the catalog stores it and publishes its URLs,
the cart's replica takes them from product.updated, the order from
cart.checked_out; only the broker is left out.
"""

import re
import uuid

import pytest
from django.urls import reverse

from cart import handlers as cart_handlers
from cart import services as cart_services
from cart.models import OutboxMessage as CartOutbox
from catalog import services as catalog_services
from catalog.images import image_prepare
from catalog.models import OutboxMessage as CatalogOutbox
from orders import handlers as orders_handlers
from shopsite import contracts
from shopsite.testing import an_address, recorded
from tests.images import media_root, picture, upload  # noqa: F401 (media_root is a fixture)

pytestmark = pytest.mark.django_db(databases="__all__")

TILE = re.compile(r'<img class="tile tile--(\w+) tile--image" src="([^"]+)" alt="([^"]*)"'
                  r'|<span class="tile tile--(\w+)" style="--hue: \d+" aria-hidden="true">(\w+)</span>')


def tiles(html: str) -> list[tuple[str, ...]]:
    """Each product picture of a page, in order: ("img", size, src, alt) or ("initials", size, letters)."""
    return [("img", m[1], m[2], m[3]) if m[1] else ("initials", m[4], m[5]) for m in TILE.finditer(html)]


@pytest.fixture
def lamp_and_mug(make_product, media_root):
    """A Desk Lamp with an image, told to the cart by the catalog's message, and a Blue Mug without one."""
    lamp, mug = make_product(name="Desk Lamp", sku="LAMP"), make_product(name="Blue Mug", sku="MUG")
    catalog_services.product_image_set(product_id=lamp.id, image=image_prepare(upload(picture())))
    [update] = recorded(CatalogOutbox, "product.updated")
    cart_handlers.product_replicate(contracts.ProductUpdated.model_validate(update))
    lamp.refresh_from_db()
    return lamp, mug


def test_the_catalog_shows_the_thumbnail_and_the_product_page_the_whole_image(client, lamp_and_mug):
    lamp, mug = lamp_and_mug

    listing = client.get(reverse("catalog-home")).text
    page = client.get(reverse("catalog-product-detail", args=[lamp.id])).text
    other = client.get(reverse("catalog-product-detail", args=[mug.id])).text

    assert tiles(listing) == [("initials", "lg", "BM"), ("img", "lg", lamp.thumbnail_url, "")]
    assert tiles(page) == [("img", "xl", lamp.image_url, "Desk Lamp")]
    assert tiles(other) == [("initials", "xl", "BM")]
    assert lamp.thumbnail_url != lamp.image_url


def test_the_cart_checkout_and_order_pages_show_each_lines_image_or_its_initials(shopper, customer, lamp_and_mug):
    lamp, mug = lamp_and_mug
    for product in (lamp, mug):
        cart_services.cart_item_add(user_id=customer.id, product_id=product.id)
    expected = [("img", "sm", lamp.thumbnail_url, ""), ("initials", "sm", "BM")]

    cart_page = shopper.get(reverse("cart-detail")).text
    checkout_page = shopper.get(reverse("storefront-checkout")).text
    checkout = cart_services.cart_checkout(user_id=customer.id, idempotency_key="k", payment_method_id=uuid.uuid4(),
                                           shipping_address=an_address())
    [checked_out] = recorded(CartOutbox, "cart.checked_out")
    orders_handlers.place_order(contracts.CartCheckedOut.model_validate(checked_out))
    order_page = shopper.get(reverse("orders-detail", args=[checkout.order_id])).text

    assert tiles(cart_page) == tiles(checkout_page) == tiles(order_page) == expected


def test_the_images_the_pages_name_are_served(client, lamp_and_mug):
    lamp, _ = lamp_and_mug

    for url, content_type in [(lamp.image_url, "image/png"), (lamp.thumbnail_url, "image/jpeg")]:
        response = client.get(url)
        assert (response.status_code, response["Content-Type"]) == (200, content_type)
