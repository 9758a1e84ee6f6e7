"""The cart learns each product's image from the catalog's messages and passes it on at checkout."""

import uuid
from decimal import Decimal

import pytest

from cart import selectors, services
from cart.handlers import HANDLERS
from cart.models import OutboxMessage, ProductReplica
from shopsite import contracts
from shopsite.testing import an_address, recorded

pytestmark = pytest.mark.django_db(databases=["cart"])

IMAGE = "/media/catalog/products/5f1e.png"
THUMBNAIL = "/media/catalog/products/5f1e-thumb.jpg"


def product(message_type=contracts.ProductPublished, version=1, **images):
    return message_type(product_id=1, sku="MUG", name="Mug", price=Decimal("9.50"), is_active=True, available=5,
                        version=version, **images)


def test_the_replica_keeps_the_image_urls_the_catalog_published():
    HANDLERS[contracts.ProductPublished](product(image_url=IMAGE, thumbnail_url=THUMBNAIL))

    replica = ProductReplica.objects.get(pk=1)
    assert (replica.image_url, replica.thumbnail_url) == (IMAGE, THUMBNAIL)


def test_an_update_without_image_urls_means_the_product_has_none_now():
    HANDLERS[contracts.ProductPublished](product(image_url=IMAGE, thumbnail_url=THUMBNAIL))

    HANDLERS[contracts.ProductUpdated](product(contracts.ProductUpdated, version=2))

    replica = ProductReplica.objects.get(pk=1)
    assert (replica.image_url, replica.thumbnail_url, replica.version) == ("", "", 2)


def test_an_older_message_does_not_bring_back_an_older_image():
    HANDLERS[contracts.ProductUpdated](product(contracts.ProductUpdated, version=3, image_url=IMAGE,
                                               thumbnail_url=THUMBNAIL))

    HANDLERS[contracts.ProductPublished](product(version=1))

    assert ProductReplica.objects.get(pk=1).thumbnail_url == THUMBNAIL


def test_the_cart_and_the_checkout_carry_the_image_of_each_line(make_product):
    make_product(product_id=1, sku="MUG", name="Mug", image_url=IMAGE, thumbnail_url=THUMBNAIL)
    make_product(product_id=2, sku="TEE", name="Tee")
    services.cart_item_add(user_id=7, product_id=1)
    services.cart_item_add(user_id=7, product_id=2)

    cart = selectors.cart_get(user_id=7)
    services.cart_checkout(user_id=7, idempotency_key="k", payment_method_id=uuid.uuid4(), shipping_address=an_address())

    assert [(line.image_url, line.thumbnail_url) for line in cart.lines] == [(IMAGE, THUMBNAIL), ("", "")]
    [checked_out] = recorded(OutboxMessage, "cart.checked_out")
    mug, tee = checked_out["lines"]
    assert (mug["image_url"], mug["thumbnail_url"]) == (IMAGE, THUMBNAIL)
    assert "image_url" not in tee and "thumbnail_url" not in tee  # as a cart from before images sent it
