"""Rows nothing reads before the commit, held and written as the transaction's last statement
(``statements.inserts_held``): one statement for every table on PostgreSQL, one a table on SQLite."""

import uuid
from decimal import Decimal

import pytest
from django.db import IntegrityError, connections, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from orders.models import Order, OrderEvent, OrderLine, OutboxMessage
from shopsite.bus import statements
from tests.postgres import fresh_database

pytestmark = pytest.mark.django_db(databases=["orders"])

PG = "held_inserts_pg"


@pytest.fixture(params=["sqlite", "postgresql"])
def alias(request, django_db_blocker):
    if request.param == "sqlite":
        yield "orders"
        return
    with fresh_database(PG, django_db_blocker, [Order, OrderLine, OrderEvent, OutboxMessage]) as name:
        yield name


def an_order(alias: str) -> Order:
    order = Order(id=uuid.uuid4(), checkout_id=uuid.uuid4(), user_id=7, total=Decimal("9.50"),
                  payment_method_id=uuid.uuid4(), shipping_name="Ann", shipping_line1="1 Main St",
                  shipping_city="Springfield", shipping_country="US")
    statements.create(alias, order)
    return order


def an_outbox_row() -> dict:
    return {"id": uuid.uuid4(), "type": "order.placed", "body": "{}", "correlation_id": uuid.uuid4(),
            "created_at": timezone.now(), "attempts": 0,
            "last_error": "", "traceparent": ""}


def counts(alias: str) -> tuple[int, int, int]:
    return (OrderEvent.objects.using(alias).count(), OrderLine.objects.using(alias).count(),
            OutboxMessage.objects.using(alias).count())


def test_held_rows_are_written_together_as_the_block_ends(alias):
    with transaction.atomic(using=alias):
        order = an_order(alias)
        with CaptureQueriesContext(connections[alias]) as logged:
            with statements.inserts_held(alias):
                statements.create_later(alias, OrderEvent(order_id=order.pk, kind="placed", detail="one"),
                                        OrderEvent(order_id=order.pk, kind="confirmed", detail="two"))
                statements.create_later(alias, OrderLine(order=order, product_id=3, sku="S3", name="Mug",
                                                         unit_price=Decimal("9.50"), quantity=1))
                statements.insert_later(OutboxMessage, alias, an_outbox_row())
                assert counts(alias) == (0, 0, 0)  # nothing written yet, even as this transaction sees it
            inserts = [q["sql"] for q in logged.captured_queries if "INSERT" in q["sql"]]
        assert counts(alias) == (2, 1, 1)
    assert len(inserts) == (1 if connections[alias].vendor == "postgresql" else 3)
    events = OrderEvent.objects.using(alias).order_by("pk")
    assert [(e.kind, e.detail) for e in events] == [("placed", "one"), ("confirmed", "two")]
    assert all(e.occurred_at is not None for e in events)  # auto_now_add filled in, as create would


def test_a_row_given_in_a_savepoint_is_written_at_once_and_rolled_back_with_it(alias):
    with transaction.atomic(using=alias):
        order = an_order(alias)
        with statements.inserts_held(alias):
            statements.create_later(alias, OrderEvent(order_id=order.pk, kind="placed"))
            try:
                with transaction.atomic(using=alias):
                    statements.create_later(alias, OrderEvent(order_id=order.pk, kind="cancelled"))
                    assert counts(alias)[0] == 1  # written at once: only the savepoint's row
                    raise RuntimeError("undo the savepoint")
            except RuntimeError:
                pass
    assert list(OrderEvent.objects.using(alias).values_list("kind", flat=True)) == ["placed"]


def test_a_block_left_by_an_exception_writes_nothing(alias):
    with pytest.raises(RuntimeError):
        with transaction.atomic(using=alias):
            order = an_order(alias)
            with statements.inserts_held(alias):
                statements.create_later(alias, OrderEvent(order_id=order.pk, kind="placed"))
                statements.insert_later(OutboxMessage, alias, an_outbox_row())
                raise RuntimeError("the handler failed")
    assert counts(alias) == (0, 0, 0) and not Order.objects.using(alias).exists()


def test_a_held_row_that_clashes_fails_its_transaction_as_the_block_ends(alias):
    row = an_outbox_row()
    statements.insert(OutboxMessage, alias, row)
    with pytest.raises(IntegrityError):
        with transaction.atomic(using=alias):
            order = an_order(alias)
            with statements.inserts_held(alias):
                statements.create_later(alias, OrderEvent(order_id=order.pk, kind="placed"))
                statements.insert_later(OutboxMessage, alias, row)  # the same key again
    assert counts(alias) == (0, 0, 1) and not Order.objects.using(alias).exists()


def test_rows_for_another_database_or_outside_a_block_are_written_at_once(alias):
    with transaction.atomic(using=alias):
        order = an_order(alias)
        statements.create_later(alias, OrderEvent(order_id=order.pk, kind="placed"))
        assert counts(alias)[0] == 1
        with statements.inserts_held("catalog" if alias == "orders" else "orders"):
            statements.create_later(alias, OrderEvent(order_id=order.pk, kind="confirmed"))
            assert counts(alias)[0] == 2


def test_blocks_do_not_nest():
    with transaction.atomic(using="orders"), statements.inserts_held("orders"):
        with pytest.raises(RuntimeError):
            with statements.inserts_held("orders"):
                pass
