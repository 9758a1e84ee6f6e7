import json
import uuid
from decimal import Decimal

import pytest

from cart import selectors, services
from cart.models import Checkout, CartLine, OutboxMessage
from shopsite.errors import ApplicationError
from shopsite.testing import ADDRESS, an_address, recorded

pytestmark = pytest.mark.django_db(databases=["cart"])

PAYMENT_METHOD = uuid.uuid4()


def checkout(user_id=7, key="key-1", **overrides) -> Checkout:
    fields = dict(payment_method_id=PAYMENT_METHOD, shipping_address=an_address())
    return services.cart_checkout(user_id=user_id, idempotency_key=key, **{**fields, **overrides})


@pytest.fixture
def filled_cart(make_product):
    mug = make_product(product_id=1, sku="MUG", name="Mug", price="9.50", available=5)
    tee = make_product(product_id=2, sku="TEE", name="Tee", price="20.00", available=5)
    services.cart_item_add(user_id=7, product_id=mug.product_id, quantity=2)
    services.cart_item_add(user_id=7, product_id=tee.product_id, quantity=1)
    return mug, tee


def test_checkout_records_the_cart_with_server_side_prices(filled_cart):
    done = checkout()

    assert done.total == Decimal("39.00")
    [message] = recorded(OutboxMessage, "cart.checked_out")
    assert message == {
        "checkout_id": str(done.id),
        "order_id": str(done.order_id),
        "user_id": 7,
        "lines": [
            {"product_id": 1, "sku": "MUG", "name": "Mug", "unit_price": "9.50", "quantity": 2},
            {"product_id": 2, "sku": "TEE", "name": "Tee", "unit_price": "20.00", "quantity": 1},
        ],
        "total": "39.00",
        "currency": "USD",
        "shipping_address": {**ADDRESS, "line2": ""},
        "payment_method_id": str(PAYMENT_METHOD),
    }


def test_the_checkout_starts_the_flow_it_correlates(filled_cart):
    done = checkout()

    envelope = json.loads(OutboxMessage.objects.get().body)
    assert envelope["correlation_id"] == str(done.id)


def test_the_cart_empties_into_the_checkout(filled_cart):
    done = checkout()

    assert not CartLine.objects.filter(cart__user_id=7).exists()
    assert selectors.cart_get(user_id=7).lines == []
    assert list(done.lines.values_list("product_id", "sku", "name", "unit_price", "quantity")) == [
        (1, "MUG", "Mug", Decimal("9.50"), 2),
        (2, "TEE", "Tee", Decimal("20.00"), 1),
    ]


def test_a_retry_with_the_same_key_returns_the_same_checkout_from_the_emptied_cart(filled_cart):
    first = checkout(key="abc")
    second = checkout(key="abc")

    assert second.pk == first.pk and second.order_id == first.order_id
    assert len(recorded(OutboxMessage, "cart.checked_out")) == 1
    assert Checkout.objects.count() == 1


def test_another_key_right_after_a_checkout_finds_the_cart_empty(filled_cart):
    checkout(key="a")

    with pytest.raises(ApplicationError, match="Your cart is empty"):
        checkout(key="b")

    assert len(recorded(OutboxMessage, "cart.checked_out")) == 1


def test_the_customer_may_shop_and_check_out_again_at_once(filled_cart):
    first = checkout(key="a")
    services.cart_item_add(user_id=7, product_id=1, quantity=3)

    second = checkout(key="b")

    assert second.order_id != first.order_id
    assert list(second.lines.values_list("product_id", "quantity")) == [(1, 3)]
    assert [len(m["lines"]) for m in recorded(OutboxMessage, "cart.checked_out")] == [2, 1]
    assert selectors.cart_get(user_id=7).lines == []


def test_the_order_being_placed_leaves_what_was_added_since_in_the_cart(filled_cart):
    first = checkout(key="a")
    services.cart_item_add(user_id=7, product_id=1, quantity=4)

    services.checkout_mark_placed(order_id=first.order_id)

    assert Checkout.objects.get(pk=first.pk).placed_at is not None
    assert list(CartLine.objects.values_list("product_id", "quantity")) == [(1, 4)]


def test_another_customer_checking_out_is_not_held(filled_cart, make_product):
    checkout(key="a")
    services.cart_item_add(user_id=8, product_id=1, quantity=1)

    assert checkout(user_id=8, key="a").user_id == 8


def test_the_same_key_of_another_user_is_not_theirs(filled_cart):
    services.cart_item_add(user_id=8, product_id=1, quantity=1)

    mine, theirs = checkout(user_id=7, key="k"), checkout(user_id=8, key="k")

    assert mine.pk != theirs.pk
    assert theirs.total == Decimal("9.50")


def test_the_latest_price_is_charged(filled_cart):
    mug, _ = filled_cart
    mug.price = Decimal("8.00")
    mug.save()

    assert checkout().total == Decimal("36.00")


def test_an_empty_cart_cannot_be_checked_out():
    with pytest.raises(ApplicationError, match="Your cart is empty"):
        checkout()

    assert recorded(OutboxMessage) == []


@pytest.mark.parametrize(
    "change, message",
    [
        ({"is_active": False}, "Mug is not available."),
        ({"available": 0}, "Mug is out of stock."),
        ({"available": 1}, "Only 1 left of Mug."),
    ],
)
def test_a_line_that_cannot_be_sold_stops_the_checkout(filled_cart, change, message):
    mug, _ = filled_cart
    for field, value in change.items():
        setattr(mug, field, value)
    mug.save()

    with pytest.raises(ApplicationError) as refused:
        checkout()

    assert refused.value.message == message
    assert refused.value.extra["product_id"] == 1
    assert not Checkout.objects.exists()
    assert recorded(OutboxMessage) == []
    assert sorted(CartLine.objects.values_list("product_id", flat=True)) == [1, 2]  # still in the cart


@pytest.mark.parametrize(
    "overrides",
    [{"key": ""}, {"key": "x" * 101}, {"shipping_address": "1 Main St"}, {"shipping_address": {**ADDRESS, "country": "XX"}},
     {"payment_method_id": "not-a-uuid"}],
)
def test_bad_checkout_requests_are_refused(filled_cart, overrides):
    with pytest.raises(ApplicationError):
        checkout(**overrides)

    assert not Checkout.objects.exists()


def test_a_checkout_and_its_order_get_time_ordered_ids(filled_cart):
    done = checkout()

    assert (done.id.version, done.order_id.version) == (7, 7)
