"""The statements built once (shopsite/bus/statements.py) write, read, change and delete exactly what the ORM does."""

import uuid
from decimal import Decimal

import pytest
from django.db import connections
from django.forms.models import model_to_dict
from django.test.utils import CaptureQueriesContext

from catalog.models import Product
from orders.models import Order, OrderEvent, OrderLine
from shopsite.bus import statements
from shopsite.bus.statements import Add

pytestmark = pytest.mark.django_db(databases=["orders", "catalog"])


def an_order(**changes) -> Order:
    fields = dict(id=uuid.uuid4(), checkout_id=uuid.uuid4(), user_id=7, total=Decimal("39.50"),
                  payment_method_id=uuid.uuid4(), shipping_name="Ann", shipping_line1="1 Main St",
                  shipping_city="Springfield", shipping_country="US")
    return Order(**{**fields, **changes})


def every_field(obj) -> dict:
    return {field.attname: getattr(obj, field.attname) for field in type(obj)._meta.concrete_fields}


def test_a_row_created_and_read_back_is_the_row_the_orm_writes_and_reads():
    ours, theirs = an_order(), an_order()
    statements.create("orders", ours)
    Order.objects.create(**{k: v for k, v in every_field(theirs).items() if k not in ("created_at", "updated_at")})

    read = statements.select_one(Order, "orders", pk=ours.pk)
    assert every_field(read) == every_field(Order.objects.get(pk=ours.pk))  # types too: Decimal, UUID, aware datetimes
    assert read.total == Decimal("39.50") and read.status == Order.Status.PENDING and read.created_at is not None
    # Both rows look alike but for their own keys and times.
    mine, orms = every_field(read), every_field(Order.objects.get(pk=theirs.pk))
    for key in ("id", "checkout_id", "payment_method_id", "created_at", "updated_at"):
        mine.pop(key), orms.pop(key)
    assert mine == orms


def test_several_rows_in_one_statement_and_a_select_in_key_order():
    order = an_order()
    statements.create("orders", order)
    statements.create("orders", *(OrderLine(order=order, product_id=n, sku=f"S{n}", name="N",
                                            unit_price=Decimal("1.25"), quantity=n) for n in (3, 1, 2)))

    lines = statements.select(OrderLine, "orders", order_id=order.pk)
    assert [model_to_dict(line) for line in lines] == [model_to_dict(line) for line in order.lines.order_by("pk")]
    assert [line.product_id for line in lines] == [3, 1, 2]


def test_update_with_comparisons_and_additions_changes_what_the_orm_would():
    product = Product.objects.create(sku="MUG", name="Mug", price=Decimal("9.50"), stock_on_hand=5)

    assert statements.update(Product, "catalog", where={"pk": product.pk, "is_active": True, "stock_on_hand__gte": 6},
                             values={"stock_on_hand": Add(-6)}) == 0
    assert statements.update(Product, "catalog", where={"pk": product.pk, "is_active": True, "stock_on_hand__gte": 2},
                             values={"stock_on_hand": Add(-2), "stock_reserved": Add(2), "name": "Big mug"}) == 1

    product.refresh_from_db()
    assert (product.stock_on_hand, product.stock_reserved, product.name) == (3, 2, "Big mug")


def test_an_update_returning_gives_the_changed_rows_as_the_orm_reads_them_after():
    order, other = an_order(), an_order()
    statements.create("orders", order, other)

    assert statements.update_returning(Order, "orders", where={"pk": order.pk, "status": ("paid",)},
                                       values={"status": "cancelled"}) == []
    assert statements.update_returning(Order, "orders", where={"pk": order.pk, "status": ()},
                                       values={"status": "cancelled"}) == []
    [moved] = statements.update_returning(Order, "orders", where={"pk": order.pk, "status": (Order.Status.PENDING,),
                                                                   "total__gt": 0},
                                          values={"status": Order.Status.AWAITING_PAYMENT, "total": Decimal("12.00")})

    assert every_field(moved) == every_field(Order.objects.get(pk=order.pk))  # types too
    assert (moved.status, moved.total) == (Order.Status.AWAITING_PAYMENT, Decimal("12.00"))
    assert Order.objects.get(pk=other.pk).status == Order.Status.PENDING


def test_in_a_tuple_and_an_empty_tuple_matching_nothing():
    orders = [an_order(), an_order(), an_order()]
    for order in orders:
        statements.create("orders", order)
    wanted = (orders[0].pk, orders[2].pk)

    assert {o.pk for o in statements.select(Order, "orders", pk=wanted)} == set(wanted)
    assert statements.update(Order, "orders", where={"pk": wanted, "status": (Order.Status.PENDING,)},
                             values={"status": Order.Status.CANCELLED}) == 2
    assert set(Order.objects.filter(status=Order.Status.CANCELLED).values_list("pk", flat=True)) == set(wanted)
    # The ORM answers an empty IN with nothing; so do the statements, without sending ``IN ()`` (which
    # PostgreSQL refuses; SQLite takes it).
    assert statements.select(Order, "orders", pk=()) == []
    assert statements.update(Order, "orders", where={"pk": ()}, values={"status": Order.Status.PENDING}) == 0
    assert statements.delete(OrderEvent, "orders", order_id=()) == 0


def test_delete_removes_only_the_matching_rows():
    order = an_order()
    statements.create("orders", order)
    statements.create("orders", OrderEvent(order=order, kind=OrderEvent.Kind.PLACED),
                      OrderEvent(order=order, kind=OrderEvent.Kind.PAID))

    assert statements.delete(OrderEvent, "orders", order_id=order.pk, kind=OrderEvent.Kind.PLACED) == 1
    assert list(OrderEvent.objects.values_list("kind", flat=True)) == [OrderEvent.Kind.PAID]


def test_a_delete_returning_gives_the_deleted_rows_as_the_orm_read_them_before():
    order = an_order()
    statements.create("orders", order)
    statements.create("orders", OrderEvent(order=order, kind=OrderEvent.Kind.PLACED, detail="one"),
                      OrderEvent(order=order, kind=OrderEvent.Kind.PAID, detail="two"))
    before = {event.pk: every_field(event) for event in OrderEvent.objects.all()}

    assert statements.delete_returning(OrderEvent, "orders", order_id=order.pk, kind=()) == []
    deleted = statements.delete_returning(OrderEvent, "orders", order_id=order.pk, kind=OrderEvent.Kind.PAID)

    assert [every_field(event) for event in deleted] == [before[event.pk] for event in deleted]  # types too
    assert [event.kind for event in deleted] == [OrderEvent.Kind.PAID]
    assert list(OrderEvent.objects.values_list("kind", flat=True)) == [OrderEvent.Kind.PLACED]


def test_isnull_compares_with_null_and_sends_no_value_for_it():
    from django.utils import timezone

    from orders.models import OutboxMessage

    waiting, sent = (OutboxMessage.objects.create(id=uuid.uuid4(), type="order.placed", body="{}",
                                                  correlation_id=uuid.uuid4())
                     for _ in range(2))
    OutboxMessage.objects.filter(pk=sent.pk).update(sent_at=timezone.now())

    assert [row.pk for row in statements.select(OutboxMessage, "orders", sent_at__isnull=True)] == [waiting.pk]
    assert [row.pk for row in statements.select(OutboxMessage, "orders", sent_at__isnull=False)] == [sent.pk]
    assert statements.update(OutboxMessage, "orders", where={"pk": (waiting.pk, sent.pk), "sent_at__isnull": True},
                             values={"attempts": Add(1)}) == 1
    assert dict(OutboxMessage.objects.values_list("pk", "attempts")) == {waiting.pk: 1, sent.pk: 0}


def test_select_related_one_reads_a_row_and_the_row_it_refers_to_in_one_statement():
    order, other = an_order(), an_order(user_id=8)
    statements.create("orders", order, other)
    statements.create("orders", *(OrderLine(order=o, product_id=n, sku=f"S{n}", name="N", unit_price=Decimal("1.25"),
                                            quantity=n) for o in (order, other) for n in (1, 2, 3)))

    with CaptureQueriesContext(connections["orders"]) as logged:
        line = statements.select_related_one(OrderLine, "orders", "order", order_id=order.pk, quantity__gte=2)
        referred = line.order  # from the cache the statement filled
    assert len(logged.captured_queries) == 1

    orms = (OrderLine.objects.using("orders").select_related("order")
            .filter(order_id=order.pk, quantity__gte=2).order_by("pk").first())
    assert every_field(line) == every_field(orms)  # types too
    assert every_field(referred) == every_field(orms.order) and referred.pk == order.pk
    assert statements.select_related_one(OrderLine, "orders", "order", order_id=uuid.uuid4()) is None
    assert statements.select_related_one(OrderLine, "orders", "order", pk=()) is None
