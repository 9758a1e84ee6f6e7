"""A checkout whose order is cancelled for stock or payment comes back into the cart, once, with a notice."""

import uuid
from datetime import datetime, timezone
from decimal import Decimal

import pytest

from cart import handlers, selectors, services
from cart.models import Cart, CartLine, Checkout, OutboxMessage
from shopsite import contracts
from shopsite.bus.connection import subscriptions
from shopsite.bus.handlers import Handler
from shopsite.ids import short
from shopsite.limits import MAX_LINES, MAX_QUANTITY
from shopsite.testing import an_address, recorded

pytestmark = pytest.mark.django_db(databases=["cart"])

USER = 7


@pytest.fixture
def ordered(make_product) -> Checkout:
    """A checkout of 2 mugs and a tee; the cart is empty afterwards."""
    make_product(product_id=1, sku="MUG", name="Mug", price="9.50", available=50)
    make_product(product_id=2, sku="TEE", name="Tee", price="20.00", available=50)
    services.cart_item_add(user_id=USER, product_id=1, quantity=2)
    services.cart_item_add(user_id=USER, product_id=2, quantity=1)
    return services.cart_checkout(user_id=USER, idempotency_key="k", payment_method_id=uuid.uuid4(),
                                  shipping_address=an_address())


def cancelled(checkout: Checkout, reason: str, user_id: int = USER) -> contracts.OrderCancelled:
    return contracts.OrderCancelled(
        order_id=checkout.order_id, user_id=user_id, total=checkout.total, occurred_at=datetime.now(timezone.utc),
        reason=reason, refund_due=False,
    )


def cart() -> dict[int, tuple[int, str]]:
    return {line.product_id: (line.quantity, line.notice) for line in selectors.cart_get(user_id=USER).lines}


def test_the_cart_subscribes_to_cancelled_orders():
    assert subscriptions("cart")[contracts.OrderCancelled] == (
        Handler("cart.restore-cancelled-order", handlers.restore_cancelled_order),)


@pytest.mark.parametrize("reason, because", [
    ("payment_declined", "the payment was declined"),
    ("out_of_stock", "part of it was out of stock"),
])
def test_an_order_cancelled_for_stock_or_payment_comes_back_with_a_notice(ordered, reason, because):
    handlers.restore_cancelled_order(cancelled(ordered, reason))

    number = short(ordered.order_id)
    assert cart() == {
        1: (2, f"Mug is back in your cart: your order #{number} was cancelled because {because}."),
        2: (1, f"Tee is back in your cart: your order #{number} was cancelled because {because}."),
    }
    assert Checkout.objects.get(pk=ordered.pk).restored_at is not None
    assert len(recorded(OutboxMessage)) == 1  # the checkout's cart.checked_out: restoring sends nothing


@pytest.mark.parametrize("reason", ["customer_request", "staff_request"])
def test_an_order_cancelled_on_request_does_not_refill_the_cart(ordered, reason):
    handlers.restore_cancelled_order(cancelled(ordered, reason))

    assert cart() == {}
    assert Checkout.objects.get(pk=ordered.pk).restored_at is None


def test_a_repeated_cancellation_restores_once(ordered):
    message = cancelled(ordered, "payment_declined")

    assert services.checkout_restore(order_id=message.order_id, user_id=USER, reason=message.reason) == 2
    handlers.restore_cancelled_order(message)
    handlers.restore_cancelled_order(cancelled(ordered, "out_of_stock"))  # another message, the same checkout

    assert {product: quantity for product, (quantity, _) in cart().items()} == {1: 2, 2: 1}
    assert "payment was declined" in cart()[1][1]


def test_restored_lines_merge_with_what_the_customer_added_since(ordered):
    services.cart_item_add(user_id=USER, product_id=1, quantity=3)

    handlers.restore_cancelled_order(cancelled(ordered, "payment_declined"))

    assert {product: quantity for product, (quantity, _) in cart().items()} == {1: 5, 2: 1}
    assert CartLine.objects.filter(cart__user_id=USER, product_id=1).count() == 1
    assert cart()[1][1].startswith("Mug is back in your cart")


def test_a_merged_quantity_stops_at_the_most_a_cart_holds(ordered, make_product):
    CartLine.objects.create(cart=Cart.objects.get(user_id=USER), product_id=1, quantity=MAX_QUANTITY - 1)

    handlers.restore_cancelled_order(cancelled(ordered, "payment_declined"))

    quantity, notice = cart()[1]
    assert quantity == MAX_QUANTITY
    assert notice.endswith(f"A cart holds at most {MAX_QUANTITY} of it.")
    assert cart()[2][0] == 1


def test_a_full_cart_takes_back_only_what_it_already_holds(ordered, make_product):
    full = Cart.objects.get(user_id=USER)
    CartLine.objects.create(cart=full, product_id=1, quantity=1)
    for _ in range(MAX_LINES - 1):
        CartLine.objects.create(cart=full, product_id=make_product(available=5).product_id, quantity=1)

    handlers.restore_cancelled_order(cancelled(ordered, "out_of_stock"))

    assert len(cart()) == MAX_LINES
    assert cart()[1][0] == 3 and 2 not in cart()


def test_a_cancellation_of_an_order_the_cart_does_not_know_changes_nothing(ordered):
    stranger = contracts.OrderCancelled(
        order_id=uuid.uuid4(), user_id=USER, total=Decimal("1.00"), occurred_at=datetime.now(timezone.utc),
        reason="payment_declined", refund_due=False,
    )

    handlers.restore_cancelled_order(stranger)
    handlers.restore_cancelled_order(cancelled(ordered, "payment_declined", user_id=USER + 1))

    assert cart() == {}
    assert not CartLine.objects.exists()
    assert Checkout.objects.get(pk=ordered.pk).restored_at is None


def test_the_order_being_placed_does_not_touch_a_restored_cart(ordered):
    handlers.restore_cancelled_order(cancelled(ordered, "payment_declined"))
    placed = contracts.OrderPlaced(order_id=ordered.order_id, user_id=USER, total=ordered.total,
                                   lines=[contracts.ReservedLine(product_id=1, quantity=2)])

    handlers.note_order_placed(placed)  # arriving late, as competing consumers allow

    assert {product: quantity for product, (quantity, _) in cart().items()} == {1: 2, 2: 1}
