from decimal import Decimal

import pytest

from cart import services
from cart.handlers import HANDLERS
from cart.models import CartLine, ProductReplica
from cart.services import ReplicaNotReady
from shopsite import contracts
from shopsite.testing import consumer_transaction

pytestmark = pytest.mark.django_db(databases=["cart"])


def published(**overrides) -> contracts.ProductPublished:
    fields = dict(product_id=1, sku="MUG", name="Mug", price=Decimal("9.50"), is_active=True, available=5, version=1)
    return contracts.ProductPublished(**{**fields, **overrides})


def updated(**overrides) -> contracts.ProductUpdated:
    fields = dict(product_id=1, sku="MUG", name="Mug", price=Decimal("9.50"), is_active=True, available=5, version=2)
    return contracts.ProductUpdated(**{**fields, **overrides})


def replica() -> ProductReplica:
    return ProductReplica.objects.get(pk=1)


def test_a_published_product_is_replicated():
    HANDLERS[contracts.ProductPublished](published())

    product = replica()
    assert (product.sku, product.name, product.price, product.available, product.version) == (
        "MUG", "Mug", Decimal("9.50"), 5, 1,
    )


def test_a_newer_update_replaces_the_replica():
    HANDLERS[contracts.ProductPublished](published())

    HANDLERS[contracts.ProductUpdated](updated(name="Big mug", price=Decimal("11.00"), version=2))

    assert (replica().name, replica().price, replica().version) == ("Big mug", Decimal("11.00"), 2)


def test_an_update_arriving_before_the_publication_wins_over_it():
    HANDLERS[contracts.ProductUpdated](updated(price=Decimal("11.00"), version=2))

    HANDLERS[contracts.ProductPublished](published(version=1))

    assert (replica().price, replica().version) == (Decimal("11.00"), 2)


@pytest.mark.parametrize("stale_version", [1, 2])
def test_late_or_repeated_messages_change_nothing(stale_version):
    HANDLERS[contracts.ProductUpdated](updated(price=Decimal("11.00"), version=2))

    HANDLERS[contracts.ProductUpdated](updated(price=Decimal("1.00"), version=stale_version))
    HANDLERS[contracts.StockChanged](contracts.StockChanged(product_id=1, available=0, version=stale_version))

    assert (replica().price, replica().available, replica().version) == (Decimal("11.00"), 5, 2)


def test_a_stock_change_updates_availability():
    HANDLERS[contracts.ProductPublished](published())

    HANDLERS[contracts.StockChanged](contracts.StockChanged(product_id=1, available=2, version=3))

    assert (replica().available, replica().stock_version, replica().price, replica().version) == (
        2, 3, Decimal("9.50"), 1,
    )


def test_a_stock_change_returns_the_replica_as_stored_without_reading_it_again():
    HANDLERS[contracts.ProductPublished](published(available=5, version=1))

    with consumer_transaction("cart"):
        returned = services.stock_replica_apply(product_id=1, available=2, version=3)

    stored = replica()
    fields = [field.attname for field in ProductReplica._meta.concrete_fields]
    assert [getattr(returned, name) for name in fields] == [getattr(stored, name) for name in fields]
    assert (returned.available, returned.stock_version) == (2, 3)
    with consumer_transaction("cart"):
        assert services.stock_replica_apply(product_id=1, available=9, version=3) is None  # not newer


def test_a_stock_change_for_an_unknown_product_is_retried_later():
    with pytest.raises(ReplicaNotReady), consumer_transaction("cart"):
        HANDLERS[contracts.StockChanged](contracts.StockChanged(product_id=1, available=2, version=2))

    assert not ProductReplica.objects.exists()


def test_a_late_price_change_still_applies_after_a_newer_stock_change():
    # The catalog changed the price (version 2), then sold one (version 3); the second message overtook the first.
    HANDLERS[contracts.ProductPublished](published(available=5, version=1))
    HANDLERS[contracts.StockChanged](contracts.StockChanged(product_id=1, available=4, version=3))

    HANDLERS[contracts.ProductUpdated](updated(price=Decimal("11.00"), available=5, version=2))

    assert (replica().price, replica().available) == (Decimal("11.00"), 4)


def test_out_of_order_deliveries_end_at_the_newest_of_each_part():
    messages = [
        contracts.StockChanged(product_id=1, available=1, version=5),
        updated(name="Big mug", price=Decimal("12.00"), available=3, version=4),
        published(version=1),
        updated(name="Mug 2", price=Decimal("10.00"), available=4, version=2),
        contracts.StockChanged(product_id=1, available=1, version=5),
        contracts.StockChanged(product_id=1, available=2, version=3),
    ]
    HANDLERS[contracts.ProductPublished](published(version=1))  # stock.changed waits for the product (retried)

    for message in messages:
        HANDLERS[type(message)](message)

    product = replica()
    assert (product.name, product.price, product.available) == ("Big mug", Decimal("12.00"), 1)
    assert (product.version, product.stock_version) == (4, 5)


def _line_in_cart(user_id: int, quantity: int) -> CartLine:
    services.cart_item_add(user_id=user_id, product_id=1, quantity=quantity)
    return CartLine.objects.get(cart__user_id=user_id, product_id=1)


def test_a_price_change_leaves_a_notice_on_cart_lines():
    HANDLERS[contracts.ProductPublished](published())
    line = _line_in_cart(7, 1)

    HANDLERS[contracts.ProductUpdated](updated(price=Decimal("12.00")))

    line.refresh_from_db()
    assert line.notice == "The price of Mug changed from 9.50 to 12.00."


def test_a_product_withdrawn_leaves_a_notice():
    HANDLERS[contracts.ProductPublished](published())
    line = _line_in_cart(7, 1)

    HANDLERS[contracts.ProductUpdated](updated(is_active=False))

    line.refresh_from_db()
    assert line.notice == "Mug is no longer available."


def test_less_stock_warns_only_the_lines_that_want_more_than_is_left():
    HANDLERS[contracts.ProductPublished](published())
    small, big = _line_in_cart(7, 1), _line_in_cart(8, 4)

    HANDLERS[contracts.StockChanged](contracts.StockChanged(product_id=1, available=2, version=2))

    small.refresh_from_db()
    big.refresh_from_db()
    assert small.notice == ""
    assert big.notice == "Only 2 left of Mug."


def test_running_out_leaves_an_out_of_stock_notice():
    HANDLERS[contracts.ProductPublished](published())
    line = _line_in_cart(7, 1)

    HANDLERS[contracts.StockChanged](contracts.StockChanged(product_id=1, available=0, version=2))

    line.refresh_from_db()
    assert line.notice == "Mug is out of stock."


def test_a_change_of_name_only_leaves_no_notice():
    HANDLERS[contracts.ProductPublished](published())
    line = _line_in_cart(7, 1)

    HANDLERS[contracts.ProductUpdated](updated(name="Mug 2"))

    line.refresh_from_db()
    assert line.notice == ""
