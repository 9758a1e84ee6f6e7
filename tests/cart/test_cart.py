import uuid
from decimal import Decimal

import pytest

from cart import selectors, services
from cart.handlers import HANDLERS
from cart.models import CartLine
from shopsite import contracts
from shopsite.errors import ApplicationError, NotFound

pytestmark = pytest.mark.django_db(databases=["cart"])


def quantities(user_id: int) -> dict[int, int]:
    return dict(CartLine.objects.filter(cart__user_id=user_id).values_list("product_id", "quantity"))


def test_adding_twice_increments_the_line(make_product):
    product = make_product(available=10)

    services.cart_item_add(user_id=7, product_id=product.product_id, quantity=2)
    services.cart_item_add(user_id=7, product_id=product.product_id)

    assert quantities(7) == {product.product_id: 3}


def test_an_unknown_product_cannot_be_added():
    with pytest.raises(NotFound, match="Unknown product"):
        services.cart_item_add(user_id=7, product_id=404, quantity=1)


@pytest.mark.parametrize(
    "product, quantity, message",
    [
        ({"is_active": False}, 1, "Mug is not available."),
        ({"available": 0}, 1, "Mug is out of stock."),
        ({"available": 3}, 4, "Only 3 left of Mug."),
        ({"available": 500}, 101, "from 1 to 100"),
        ({"available": 500}, 0, "from 1 to 100"),
        ({"available": 500}, -1, "from 1 to 100"),
    ],
)
def test_adding_is_refused_with_a_reason(make_product, product, quantity, message):
    mug = make_product(name="Mug", **product)

    with pytest.raises(ApplicationError) as refused:
        services.cart_item_add(user_id=7, product_id=mug.product_id, quantity=quantity)

    assert message in refused.value.message
    assert quantities(7) == {}


def test_what_is_already_in_the_cart_counts_against_stock_and_the_limit(make_product):
    scarce, plenty = make_product(name="Mug", available=3), make_product(name="Tee", available=500)
    services.cart_item_add(user_id=7, product_id=scarce.product_id, quantity=2)
    services.cart_item_add(user_id=7, product_id=plenty.product_id, quantity=99)

    with pytest.raises(ApplicationError, match="Only 3 left of Mug"):
        services.cart_item_add(user_id=7, product_id=scarce.product_id, quantity=2)
    with pytest.raises(ApplicationError, match="at most 100"):
        services.cart_item_add(user_id=7, product_id=plenty.product_id, quantity=2)

    assert quantities(7) == {scarce.product_id: 2, plenty.product_id: 99}


def test_set_changes_the_quantity_and_zero_removes(make_product):
    mug, tee = make_product(available=5), make_product(available=5)
    services.cart_item_add(user_id=7, product_id=mug.product_id)
    services.cart_item_add(user_id=7, product_id=tee.product_id)

    services.cart_item_set(user_id=7, product_id=mug.product_id, quantity=4)
    services.cart_item_set(user_id=7, product_id=tee.product_id, quantity=0)

    assert quantities(7) == {mug.product_id: 4}


def test_set_checks_stock_and_needs_the_line(make_product):
    mug = make_product(available=2)
    services.cart_item_add(user_id=7, product_id=mug.product_id)

    with pytest.raises(ApplicationError, match="Only 2 left"):
        services.cart_item_set(user_id=7, product_id=mug.product_id, quantity=3)
    with pytest.raises(NotFound):
        services.cart_item_set(user_id=8, product_id=mug.product_id, quantity=1)

    assert quantities(7) == {mug.product_id: 1}


def test_remove_deletes_only_that_line_and_needs_it(make_product):
    mug, tee = make_product(), make_product()
    services.cart_item_add(user_id=7, product_id=mug.product_id)
    services.cart_item_add(user_id=7, product_id=tee.product_id)

    services.cart_item_remove(user_id=7, product_id=mug.product_id)

    assert quantities(7) == {tee.product_id: 1}
    with pytest.raises(NotFound):
        services.cart_item_remove(user_id=7, product_id=mug.product_id)


def test_changing_a_line_clears_its_notice(make_product):
    mug = make_product(available=5)
    services.cart_item_add(user_id=7, product_id=mug.product_id)
    CartLine.objects.update(notice="The price changed.")

    services.cart_item_set(user_id=7, product_id=mug.product_id, quantity=2)

    assert CartLine.objects.get().notice == ""


def test_cart_get_prices_lines_from_the_replica(make_product):
    mug = make_product(sku="MUG", name="Mug", price="9.50", available=5)
    tee = make_product(sku="TEE", name="Tee", price="20.00", available=1)
    services.cart_item_add(user_id=7, product_id=mug.product_id, quantity=2)
    services.cart_item_add(user_id=7, product_id=tee.product_id)
    services.cart_item_add(user_id=8, product_id=tee.product_id)
    mug.price = Decimal("10.00")
    mug.save()

    cart = selectors.cart_get(user_id=7)

    assert [(l.sku, l.unit_price, l.quantity, l.line_total, l.available) for l in cart.lines] == [
        ("MUG", Decimal("10.00"), 2, Decimal("20.00"), 5),
        ("TEE", Decimal("20.00"), 1, Decimal("20.00"), 1),
    ]
    assert (cart.total, cart.count) == (Decimal("40.00"), 3)


def test_an_empty_cart():
    cart = selectors.cart_get(user_id=7)

    assert (cart.lines, cart.total, cart.count) == ([], Decimal("0.00"), 0)


def test_an_inactive_product_shows_nothing_available(make_product):
    mug = make_product(available=5)
    services.cart_item_add(user_id=7, product_id=mug.product_id)
    mug.is_active = False
    mug.save()

    assert selectors.cart_get(user_id=7).lines[0].available == 0


def test_a_placed_order_leaves_the_cart_alone(make_product):
    # The cart emptied itself at checkout: what is in it now was put there since, and stays.
    mug, tee = make_product(), make_product()
    for user_id in (7, 8):
        services.cart_item_add(user_id=user_id, product_id=mug.product_id)
        services.cart_item_add(user_id=user_id, product_id=tee.product_id)
    placed = contracts.OrderPlaced(
        order_id=uuid.uuid4(), user_id=7, total=Decimal("10.00"),
        lines=[contracts.ReservedLine(product_id=mug.product_id, quantity=1)],
    )

    HANDLERS[contracts.OrderPlaced](placed)
    HANDLERS[contracts.OrderPlaced](placed)

    assert quantities(7) == quantities(8) == {mug.product_id: 1, tee.product_id: 1}


def test_notices_can_be_cleared_once_seen(make_product):
    mug = make_product()
    services.cart_item_add(user_id=7, product_id=mug.product_id)
    services.cart_item_add(user_id=8, product_id=mug.product_id)
    CartLine.objects.update(notice="Seen?")

    services.cart_notices_clear(user_id=7)

    assert dict(CartLine.objects.values_list("cart__user_id", "notice")) == {7: "", 8: "Seen?"}
