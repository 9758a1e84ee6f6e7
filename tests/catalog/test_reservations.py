import uuid
from decimal import Decimal

import pika
import pytest

from catalog import services
from catalog.handlers import HANDLERS
from catalog.models import OutboxMessage, Product, Reservation
from shopsite import contracts
from shopsite.bus import deployment
from shopsite.bus.consumer import Consumer
from shopsite.bus.envelope import Envelope
from shopsite.bus.names import Names
from shopsite.testing import recorded

pytestmark = pytest.mark.django_db(databases=["catalog"])


def stock_of(product) -> tuple[int, int, int]:
    product.refresh_from_db()
    return product.stock_on_hand, product.stock_reserved, product.stock_sold


def placed(order_id, *lines) -> contracts.OrderPlaced:
    return contracts.OrderPlaced(
        order_id=order_id,
        user_id=7,
        lines=[contracts.ReservedLine(product_id=p, quantity=q) for p, q in lines],
        total=Decimal("1.00"),
    )


def cancelled(order_id) -> contracts.OrderCancelled:
    return contracts.OrderCancelled(
        order_id=order_id, user_id=7, total=Decimal("1.00"), occurred_at="2025-01-01T00:00:00Z",
        reason="customer_request", refund_due=False,
    )


def confirmed(order_id) -> contracts.OrderConfirmed:
    return contracts.OrderConfirmed(
        order_id=order_id, user_id=7, total=Decimal("1.00"), occurred_at="2025-01-01T00:00:00Z", lines=[],
        shipping_address=None,
    )


def test_reservation_moves_stock_and_tells_orders_and_the_cart(make_product):
    mug, tee = make_product(stock=5), make_product(stock=3)
    order_id = uuid.uuid4()

    HANDLERS[contracts.OrderPlaced](placed(order_id, (tee.id, 3), (mug.id, 2)))

    assert stock_of(mug) == (3, 2, 0)
    assert stock_of(tee) == (0, 3, 0)
    assert set(Reservation.objects.values_list("product_id", "quantity", "status")) == {
        (mug.id, 2, "reserved"),
        (tee.id, 3, "reserved"),
    }
    [reserved] = recorded(OutboxMessage, "stock.reserved")
    assert reserved["order_id"] == str(order_id)
    assert sorted((line["product_id"], line["quantity"]) for line in reserved["lines"]) == [(mug.id, 2), (tee.id, 3)]
    changes = {m["product_id"]: (m["available"], m["version"]) for m in recorded(OutboxMessage, "stock.changed")}
    assert changes == {mug.id: (3, mug.version), tee.id: (0, tee.version)}
    assert mug.version == 2


def test_a_one_line_order_is_reserved_without_a_savepoint_and_a_longer_one_with_one(make_product):
    from django.db import connections
    from django.test.utils import CaptureQueriesContext

    mug, tee = make_product(stock=5), make_product(stock=5)

    def savepoints(*lines) -> int:
        with CaptureQueriesContext(connections["catalog"]) as queries:
            services.stock_reserve_for_order(order_id=uuid.uuid4(), lines=lines)
        return sum("SAVEPOINT" in query["sql"].upper() and "RELEASE" not in query["sql"].upper()
                   for query in queries.captured_queries)

    assert savepoints((mug.id, 1)) == 0
    assert savepoints((mug.id, 1), (mug.id, 1)) == 0  # the same product twice is one line
    assert savepoints((mug.id, 1), (tee.id, 1)) == 1
    assert stock_of(mug) == (1, 4, 0) and stock_of(tee) == (4, 1, 0)


def test_reservation_is_all_or_nothing(make_product):
    plenty, scarce = make_product(stock=10), make_product(stock=1)
    order_id = uuid.uuid4()

    services.stock_reserve_for_order(order_id=order_id, lines=[(plenty.id, 4), (scarce.id, 2)])

    assert stock_of(plenty) == (10, 0, 0)
    assert stock_of(scarce) == (1, 0, 0)
    assert plenty.version == 1
    assert not Reservation.objects.exists()
    assert recorded(OutboxMessage, "stock.reserved") == []
    assert recorded(OutboxMessage, "stock.changed") == []
    [rejected] = recorded(OutboxMessage, "stock.rejected")
    assert rejected == {
        "order_id": str(order_id),
        "shortages": [{"product_id": scarce.id, "requested": 2, "available": 1}],
    }


def test_unknown_and_inactive_products_are_short_with_nothing_available(make_product):
    plenty, hidden = make_product(stock=10), make_product(stock=10, is_active=False)

    services.stock_reserve_for_order(order_id=uuid.uuid4(), lines=[(plenty.id, 1), (hidden.id, 1), (999, 1)])

    assert stock_of(plenty) == (10, 0, 0)
    [rejected] = recorded(OutboxMessage, "stock.rejected")
    assert rejected["shortages"] == [
        {"product_id": hidden.id, "requested": 1, "available": 0},
        {"product_id": 999, "requested": 1, "available": 0},
    ]


def test_the_last_units_go_to_one_order_only(make_product):
    product = make_product(stock=3)
    first, second = uuid.uuid4(), uuid.uuid4()

    services.stock_reserve_for_order(order_id=first, lines=[(product.id, 2)])
    services.stock_reserve_for_order(order_id=second, lines=[(product.id, 2)])

    assert stock_of(product) == (1, 2, 0)
    assert [m["order_id"] for m in recorded(OutboxMessage, "stock.reserved")] == [str(first)]
    assert [m["order_id"] for m in recorded(OutboxMessage, "stock.rejected")] == [str(second)]


def test_repeated_lines_of_one_product_are_reserved_together(make_product):
    product = make_product(stock=3)

    services.stock_reserve_for_order(order_id=uuid.uuid4(), lines=[(product.id, 2), (product.id, 2)])

    assert stock_of(product) == (3, 0, 0)
    [rejected] = recorded(OutboxMessage, "stock.rejected")
    assert rejected["shortages"] == [{"product_id": product.id, "requested": 4, "available": 3}]


def test_a_repeated_order_reserves_nothing_more(make_product):
    product = make_product(stock=10)
    order_id = uuid.uuid4()

    services.stock_reserve_for_order(order_id=order_id, lines=[(product.id, 2)])
    services.stock_reserve_for_order(order_id=order_id, lines=[(product.id, 2)])

    assert stock_of(product) == (8, 2, 0)
    assert Reservation.objects.count() == 1
    assert len(recorded(OutboxMessage, "stock.reserved")) == 1


def test_a_rejected_order_is_not_reserved_later_when_stock_arrives(make_product):
    product = make_product(stock=1)
    order_id = uuid.uuid4()
    services.stock_reserve_for_order(order_id=order_id, lines=[(product.id, 2)])
    services.stock_adjust(product_id=product.id, quantity_delta=5)

    services.stock_reserve_for_order(order_id=order_id, lines=[(product.id, 2)])

    assert stock_of(product) == (6, 0, 0)
    assert recorded(OutboxMessage, "stock.reserved") == []


def test_release_after_a_rejection_does_nothing(make_product):
    product = make_product(stock=1)
    order_id = uuid.uuid4()
    services.stock_reserve_for_order(order_id=order_id, lines=[(product.id, 2)])
    before = len(recorded(OutboxMessage))

    HANDLERS[contracts.OrderCancelled](cancelled(order_id))

    assert stock_of(product) == (1, 0, 0)
    assert len(recorded(OutboxMessage)) == before


def test_release_puts_reserved_stock_back_once(make_product):
    mug, tee = make_product(stock=5), make_product(stock=5)
    order_id = uuid.uuid4()
    services.stock_reserve_for_order(order_id=order_id, lines=[(mug.id, 2), (tee.id, 1)])

    services.stock_release_for_order(order_id=order_id)
    services.stock_release_for_order(order_id=order_id)

    assert stock_of(mug) == (5, 0, 0)
    assert stock_of(tee) == (5, 0, 0)
    assert set(Reservation.objects.values_list("status", flat=True)) == {"released"}
    [released] = recorded(OutboxMessage, "stock.released")
    assert sorted((l["product_id"], l["quantity"]) for l in released["lines"]) == [(mug.id, 2), (tee.id, 1)]
    last_changes = recorded(OutboxMessage, "stock.changed")[-2:]
    assert {(m["product_id"], m["available"], m["version"]) for m in last_changes} == {
        (mug.id, 5, mug.version),
        (tee.id, 5, tee.version),
    }


def test_commit_moves_reserved_stock_to_sold_once(make_product):
    product = make_product(stock=5)
    order_id = uuid.uuid4()
    services.stock_reserve_for_order(order_id=order_id, lines=[(product.id, 2)])
    messages_before = len(recorded(OutboxMessage))

    HANDLERS[contracts.OrderConfirmed](confirmed(order_id))
    HANDLERS[contracts.OrderConfirmed](confirmed(order_id))

    assert stock_of(product) == (3, 0, 2)
    assert Reservation.objects.get().status == "committed"
    assert len(recorded(OutboxMessage)) == messages_before


def test_cancelling_a_paid_order_puts_the_sold_stock_back(make_product):
    product = make_product(stock=5)
    order_id = uuid.uuid4()
    services.stock_reserve_for_order(order_id=order_id, lines=[(product.id, 2)])
    services.stock_commit_for_order(order_id=order_id)

    services.stock_release_for_order(order_id=order_id)

    assert stock_of(product) == (5, 0, 0)
    [released] = recorded(OutboxMessage, "stock.released")
    assert released["lines"] == [{"product_id": product.id, "quantity": 2}]


def test_a_late_confirmation_after_release_sells_nothing(make_product):
    product = make_product(stock=5)
    order_id = uuid.uuid4()
    services.stock_reserve_for_order(order_id=order_id, lines=[(product.id, 2)])
    services.stock_release_for_order(order_id=order_id)

    services.stock_commit_for_order(order_id=order_id)

    assert stock_of(product) == (5, 0, 0)
    assert Reservation.objects.get().status == "released"


def test_a_cancellation_seen_before_the_order_prevents_its_reservation(make_product):
    product = make_product(stock=5)
    order_id = uuid.uuid4()

    services.stock_release_for_order(order_id=order_id)
    services.stock_reserve_for_order(order_id=order_id, lines=[(product.id, 2)])

    assert stock_of(product) == (5, 0, 0)
    assert recorded(OutboxMessage) == []


def test_staff_adjustments_are_the_only_change_to_total_stock(make_product):
    product = make_product(stock=10)
    orders = [uuid.uuid4() for _ in range(3)]
    for order_id in orders:
        services.stock_reserve_for_order(order_id=order_id, lines=[(product.id, 3)])
    services.stock_commit_for_order(order_id=orders[0])
    services.stock_release_for_order(order_id=orders[1])
    services.stock_reserve_for_order(order_id=uuid.uuid4(), lines=[(product.id, 5)])

    on_hand, reserved, sold = stock_of(product)
    assert on_hand + reserved + sold == 10
    assert (on_hand, reserved, sold) == (4, 3, 3)
    assert Product.objects.get(pk=product.pk).stock_on_hand >= 0


def a_batch(consumer: Consumer, *messages) -> list:
    """``messages`` as the consumer decodes them when they arrive together from its queue."""
    decoded = []
    for tag, message in enumerate(messages, start=1):
        envelope = Envelope.wrap(message, producer="orders", correlation_id=uuid.uuid4())
        method = pika.spec.Basic.Deliver(consumer_tag="test", delivery_tag=tag, redelivered=False,
                                         exchange="test", routing_key=envelope.type)
        decoded.append(consumer._decode(method, pika.BasicProperties(headers=deployment.mark()),
                                        envelope.to_json().encode()))
    return decoded


def test_an_order_placed_and_cancelled_in_one_batch_gives_its_stock_back():
    """The release, later in the same transaction, must find the reservation the placing wrote."""
    product = Product.objects.create(sku="BATCH", name="Batch", price=Decimal("1.00"), stock_on_hand=5)
    order_id = uuid.uuid4()
    consumer = Consumer("catalog", names=Names("reservations-test"))
    consumer._publish = lambda committed: None  # the test reads the outbox, not the broker

    assert consumer.apply_batch(a_batch(consumer, placed(order_id, (product.pk, 2)), cancelled(order_id))) == []

    assert stock_of(product) == (5, 0, 0)
    assert list(Reservation.objects.values_list("status", flat=True)) == [Reservation.Status.RELEASED]
