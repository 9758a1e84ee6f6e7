from decimal import Decimal

import pytest

from catalog import selectors, services
from catalog.models import OutboxMessage, Product
from shopsite.errors import ApplicationError, Conflict, NotFound
from shopsite.testing import recorded

pytestmark = pytest.mark.django_db(databases=["catalog"])


def test_create_publishes_the_product_with_its_stock():
    product = services.product_create(sku="MUG", name="Mug", price=Decimal("9.50"), stock=7, category="Kitchen")

    product.refresh_from_db()
    assert (product.stock_on_hand, product.stock_reserved, product.stock_sold) == (7, 0, 0)
    assert recorded(OutboxMessage, "product.published") == [
        {
            "product_id": product.id, "sku": "MUG", "name": "Mug", "price": "9.50",
            "is_active": True, "available": 7, "version": product.version,
        }
    ]


def test_create_refuses_a_taken_sku_and_records_nothing(make_product):
    make_product(sku="MUG")

    with pytest.raises(Conflict):
        services.product_create(sku="MUG", name="Other", price=Decimal("1.00"), stock=1)

    assert Product.objects.count() == 1
    assert recorded(OutboxMessage) == []


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"price": Decimal("-1.00")}, "zero or more"),
        ({"price": Decimal("1.005")}, "2 decimal places"),
        ({"price": Decimal("1000000.00")}, "cannot be above 999999.99"),
        ({"stock": -1}, "negative"),
        ({"name": "  "}, "Name is required"),
    ],
)
def test_create_refuses_bad_values(fields, message):
    values = {"sku": "X", "name": "X", "price": Decimal("1.00"), "stock": 1, **fields}

    with pytest.raises(ApplicationError, match=message):
        services.product_create(**values)

    assert not Product.objects.exists()


def test_update_bumps_the_version_and_records_the_new_state(make_product):
    product = make_product(price="10.00", stock=4)
    before = product.version

    updated = services.product_update(product_id=product.id, price=Decimal("12.00"), name="Better")

    assert updated.version == before + 1
    product.refresh_from_db()
    assert (product.name, product.price, product.version) == ("Better", Decimal("12.00"), before + 1)
    [message] = recorded(OutboxMessage, "product.updated")
    assert message["price"] == "12.00"
    assert message["name"] == "Better"
    assert message["available"] == 4
    assert message["version"] == before + 1


def test_update_keeps_the_stock_columns_untouched(make_product):
    product = make_product(stock=4)
    Product.objects.filter(pk=product.pk).update(stock_reserved=3, stock_sold=2)

    services.product_update(product_id=product.id, is_active=False)

    product.refresh_from_db()
    assert (product.stock_on_hand, product.stock_reserved, product.stock_sold, product.is_active) == (4, 3, 2, False)


def test_update_without_a_real_change_records_nothing(make_product):
    product = make_product(name="Same", price="5.00")

    services.product_update(product_id=product.id, name="Same", price=Decimal("5.00"))

    product.refresh_from_db()
    assert product.version == 1
    assert recorded(OutboxMessage) == []


def test_update_of_an_unknown_product_is_not_found():
    with pytest.raises(NotFound):
        services.product_update(product_id=999, name="Ghost")


def test_stock_adjust_adds_and_removes_available_stock(make_product):
    product = make_product(stock=5)

    services.stock_adjust(product_id=product.id, quantity_delta=3)
    services.stock_adjust(product_id=product.id, quantity_delta=-8)

    product.refresh_from_db()
    assert product.stock_on_hand == 0
    assert product.version == 3
    assert [(m["available"], m["version"]) for m in recorded(OutboxMessage, "stock.changed")] == [(8, 2), (0, 3)]


def test_stock_adjust_never_goes_below_zero(make_product):
    product = make_product(stock=2)

    with pytest.raises(ApplicationError, match="only 2 on hand"):
        services.stock_adjust(product_id=product.id, quantity_delta=-3)

    product.refresh_from_db()
    assert (product.stock_on_hand, product.version) == (2, 1)
    assert recorded(OutboxMessage) == []


def test_stock_adjust_refuses_zero_and_unknown_products(make_product):
    product = make_product()
    with pytest.raises(ApplicationError):
        services.stock_adjust(product_id=product.id, quantity_delta=0)
    with pytest.raises(NotFound):
        services.stock_adjust(product_id=999, quantity_delta=1)


def test_product_list_filters_and_orders(make_product):
    mug = make_product(name="Blue mug", sku="MUG-B", price="9.00", category="kitchen")
    make_product(name="Red mug", sku="MUG-R", price="11.00", category="kitchen", is_active=False)
    tee = make_product(name="Tee", sku="TEE", price="20.00", category="clothes")

    assert list(selectors.product_list(search="mug")) == [mug]
    assert list(selectors.product_list(search="tee")) == [tee]
    assert list(selectors.product_list(category="clothes")) == [tee]
    assert list(selectors.product_list(min_price=Decimal("10.00"))) == [tee]
    assert list(selectors.product_list(max_price=Decimal("10.00"))) == [mug]
    assert list(selectors.product_list(ordering="-price")) == [tee, mug]
    assert len(selectors.product_list(active_only=False)) == 3
    with pytest.raises(ApplicationError):
        selectors.product_list(ordering="stock_on_hand")


def test_product_get_hides_inactive_products_when_asked(make_product):
    hidden = make_product(is_active=False)

    assert selectors.product_get(product_id=hidden.id) == hidden
    with pytest.raises(NotFound):
        selectors.product_get(product_id=hidden.id, active_only=True)
    with pytest.raises(NotFound):
        selectors.product_get(product_id=999)
