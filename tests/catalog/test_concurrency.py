"""Competing consumers reserving the same stock at the same time.

Runs on whatever database the catalog alias points at; point it at
PostgreSQL (CATALOG_DATABASE_URL=postgres:///shop_catalog) to check the
row-level locking. The in-memory SQLite test database refuses a second
writer outright ("table is locked") where a real consumer would be retried,
so on SQLite a job is retried the same way.
"""

import random
import threading
import time
import uuid

import pytest
from django.db import OperationalError, connections

from catalog import services
from catalog.models import OutboxMessage, Product, Reservation
from shopsite.testing import recorded

pytestmark = pytest.mark.django_db(databases=["catalog"], transaction=True)


def in_parallel(jobs) -> list[BaseException]:
    start = threading.Barrier(len(jobs))
    errors: list[BaseException] = []

    def run(job):
        try:
            start.wait()
            _as_the_consumer_would(job)
        except BaseException as exc:  # reported to the test below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return errors


def _as_the_consumer_would(job) -> None:
    retry = connections["catalog"].vendor == "sqlite"
    for _ in range(100):
        try:
            return job()
        except OperationalError as exc:
            if not (retry and "locked" in str(exc)):
                raise
            time.sleep(random.uniform(0.001, 0.01))
    raise AssertionError("never got the database")


@pytest.fixture(autouse=True)
def no_broker(settings):
    # These tests commit for real: keep the after-commit publisher quiet.
    settings.BUS = {**settings.BUS, "PUBLISH_ON_COMMIT": False}


def test_concurrent_orders_never_oversell(make_product):
    mugs, tees = make_product(stock=5), make_product(stock=4)
    orders = [uuid.uuid4() for _ in range(8)]
    # Half the orders name the products in the other order: locks must not deadlock.
    lines = [[(mugs.id, 1), (tees.id, 1)], [(tees.id, 1), (mugs.id, 1)]]

    errors = in_parallel(
        [lambda o=o, i=i: services.stock_reserve_for_order(order_id=o, lines=lines[i % 2]) for i, o in enumerate(orders)]
    )

    assert errors == []
    reserved = {m["order_id"] for m in recorded(OutboxMessage, "stock.reserved")}
    rejected = {m["order_id"] for m in recorded(OutboxMessage, "stock.rejected")}
    assert len(reserved) == 4 and len(rejected) == 4
    assert reserved | rejected == {str(o) for o in orders}
    mugs.refresh_from_db()
    tees.refresh_from_db()
    assert (mugs.stock_on_hand, mugs.stock_reserved) == (1, 4)
    assert (tees.stock_on_hand, tees.stock_reserved) == (0, 4)
    assert Reservation.objects.count() == 8


def test_the_same_order_delivered_twice_at_once_is_reserved_once(make_product):
    product = make_product(stock=10)
    order_id = uuid.uuid4()

    errors = in_parallel([lambda: services.stock_reserve_for_order(order_id=order_id, lines=[(product.id, 3)])] * 2)

    # A loser may fail (and be retried by the consumer), but never reserve twice.
    assert len(errors) <= 1
    product.refresh_from_db()
    assert (product.stock_on_hand, product.stock_reserved) == (7, 3)
    assert len(recorded(OutboxMessage, "stock.reserved")) == 1
    assert Product.objects.get(pk=product.pk).stock_on_hand >= 0
