"""Two copies of a consumer whose batches lock the same rows in opposite orders, on PostgreSQL.

Each batch's handlers take a row lock of their own first, meet at a barrier
once both hold it, and then take the other's: a deadlock, which PostgreSQL
would notice only after ``deadlock_timeout`` (a second). A batch waits at most
``BUS["BATCH_LOCK_TIMEOUT"]`` for a lock: one that waits longer gives way
whole (releasing its lock) and handles its messages one by one, so both
batches' messages are handled once each and neither copy meets a deadlock.
"""

import threading
import uuid

import logging

import pika
import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext
from prometheus_client import REGISTRY

from catalog.models import InboxMessage
from shopsite import contracts
from shopsite.bus import deployment
from shopsite.bus.consumer import Consumer, lost_a_lock
from shopsite.bus.envelope import Envelope
from shopsite.bus.handlers import Handler
from shopsite.bus.names import Names
from tests.postgres import fresh_database

pytestmark = pytest.mark.django_db(databases=["catalog"])

ALIAS = "batch_locks_pg"


@pytest.fixture
def postgres_database(django_db_blocker):
    """A fresh PostgreSQL database with catalog's inbox and a table of two rows to lock; dropped after."""
    with fresh_database(ALIAS, django_db_blocker, [InboxMessage]) as alias:
        with connections[alias].cursor() as cursor:
            cursor.execute("CREATE TABLE hot_rows (id int PRIMARY KEY, touched int NOT NULL DEFAULT 0)")
            cursor.execute("INSERT INTO hot_rows (id) VALUES (1), (2)")
        yield alias


def touch(row: int) -> None:
    with connections[ALIAS].cursor() as cursor:
        cursor.execute("UPDATE hot_rows SET touched = touched + 1 WHERE id = %s", [row])


def deliveries(consumer: Consumer, count: int) -> list:
    """``count`` stock.released deliveries, decoded as the consumer decodes what arrives from its queue."""
    decoded = []
    for tag in range(1, count + 1):
        envelope = Envelope.wrap(contracts.StockReleased(order_id=uuid.uuid4(), lines=[]), producer="catalog",
                                 correlation_id=uuid.uuid4())
        method = pika.spec.Basic.Deliver(consumer_tag="test", delivery_tag=tag, redelivered=False,
                                         exchange="test", routing_key=envelope.type)
        decoded.append(consumer._decode(method, pika.BasicProperties(headers=deployment.mark()),
                                        envelope.to_json().encode()))
    return decoded


def copy(handler) -> Consumer:
    consumer = Consumer("catalog", names=Names("batch-locks-test"),
                        handlers={contracts.StockReleased: Handler("catalog.test-handler", handler)})
    consumer.db = ALIAS  # its database for this test; the handlers write through the same alias
    consumer._publish = lambda committed: None  # the handlers record nothing to publish
    return consumer


def conflicts() -> float:
    return REGISTRY.get_sample_value("shop_batch_lock_conflicts_total", {"service": "catalog"}) or 0.0


def test_two_batches_locking_rows_in_opposite_orders_do_not_deadlock(postgres_database, settings, caplog):
    caplog.set_level(logging.INFO, logger="shopsite.bus.consumer")
    settings.BUS = {**settings.BUS, "BATCH_LOCK_TIMEOUT": 0.2}
    conflicts_before = conflicts()
    both_hold_their_first_row = threading.Barrier(2, timeout=20)
    outcome: dict[str, object] = {}

    def copy_locking(first: int, second: int) -> Consumer:
        calls = []

        def handler(message):
            calls.append(message.order_id)
            if len(calls) == 1:  # the batch's first message: its own row, then wait for the other copy
                touch(first)
                both_hold_their_first_row.wait()
            else:
                touch(second)

        return copy(handler)

    copies = {"A": copy_locking(1, 2), "B": copy_locking(2, 1)}

    def run(name: str) -> None:
        consumer = copies[name]
        try:
            outcome[name] = consumer.apply_batch(deliveries(consumer, 3))
        except BaseException as exc:
            outcome[name] = exc
        finally:
            connections[ALIAS].close()

    threads = [threading.Thread(target=run, args=(name,)) for name in copies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert outcome == {"A": [], "B": []}  # no failure left for a retry queue, on either copy
    # One batch gave way, or both, when their waits began together (either way nothing is left waiting)…
    assert conflicts() - conflicts_before in (1, 2)
    assert "lock timeout" in caplog.text and "deadlock" not in caplog.text  # …before the deadlock detector
    assert InboxMessage.objects.using(ALIAS).count() == 6
    with connections[ALIAS].cursor() as cursor:
        cursor.execute("SELECT sum(touched) FROM hot_rows")
        # Each batch's three messages touched a row once each; what a batch did before it gave way was
        # rolled back.
        assert cursor.fetchone()[0] == 6


@pytest.mark.parametrize("sqlstate, lost", [("40P01", True), ("55P03", True), ("40001", True), ("23505", False)])
def test_only_lock_conflicts_count_as_a_lost_race(sqlstate, lost):
    class DriverError(Exception):
        pass

    driver_error = DriverError()
    driver_error.sqlstate = sqlstate
    try:
        try:
            raise driver_error
        except DriverError as exc:
            raise RuntimeError("as Django wraps it") from exc
    except RuntimeError as wrapped:
        assert lost_a_lock(wrapped) is lost


def test_a_batch_limits_its_lock_waits_in_its_first_statement_and_a_lone_delivery_does_not(postgres_database,
                                                                                           settings):
    settings.BUS = {**settings.BUS, "BATCH_LOCK_TIMEOUT": 0.25}
    seen = []

    def handler(message):
        with connections[ALIAS].cursor() as cursor:
            cursor.execute("SHOW lock_timeout")
            seen.append(cursor.fetchone()[0])

    consumer = copy(handler)
    with CaptureQueriesContext(connections[ALIAS]) as logged:
        assert consumer.apply_batch(deliveries(consumer, 3)) == []
    assert seen == ["250ms"] * 3
    sent = [query["sql"] for query in logged.captured_queries if query["sql"] not in ("BEGIN", "COMMIT")]
    assert not any(sql.upper().startswith("SET") for sql in sent)  # no round trip of its own
    assert "set_config" in sent[0] and "catalog_inboxmessage" in sent[0]  # the claim does it, first

    assert consumer.apply_batch(deliveries(consumer, 1)) == []
    assert seen[-1] == "0"  # the server's default: a lone delivery waits as long as it takes
    with connections[ALIAS].cursor() as cursor:
        cursor.execute("SHOW lock_timeout")  # and the setting ended with the batch's transaction
        assert cursor.fetchone()[0] == "0"
    connections[ALIAS].close()
