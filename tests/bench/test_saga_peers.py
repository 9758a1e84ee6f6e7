"""The shop's peers for the whole saga run at a tiny size: the ceiling (one process, no messages) and the
same saga as a Celery chain across six workers, each against the real RabbitMQ and SQLite files.

Neither is a test of speed: each checks that every order ended confirmed with
its rows in every service's database, that no bus rows were written, and
(Celery) that the run's queues are gone from the broker afterwards.
"""

import pika
import pytest

from bench.ceiling import run_ceiling
from bench.celery_saga import run_celery_saga
from bench.common import connect, remove_temp_dirs

pytestmark = [pytest.mark.broker, pytest.mark.e2e]

ORDERS = 5


@pytest.fixture(autouse=True)
def _temp_dirs():
    yield
    remove_temp_dirs()


def _assert_every_order_complete(audit: dict, orders: int) -> None:
    for count in ["orders", "orders_confirmed", "charges_succeeded", "reservations_committed", "units_sold",
                  "notifications_sent", "summaries_confirmed", "inbox_items", "checkouts", "checkouts_placed"]:
        assert audit[count] == orders, (count, audit)
    # placed; stock reserved, payment requested; paid, confirmed; customer notified.
    assert audit["order_events"] == 6 * orders, audit
    assert audit["units_reserved"] == 0 and audit["cart_lines"] == 0, audit
    # No outbox or inbox rows: seeding sends these services nothing, and the saga's writes record none.
    for service in ("orders", "payments", "notifications"):
        assert audit[f"{service}_outbox"] == 0, (service, audit)
    assert audit["orders_inbox"] == audit["payments_inbox"] == 0, audit


def _exists(kind: str, name: str) -> bool:
    """Whether the broker has the queue or exchange ``name`` (a passive declare)."""
    connection = connect()
    try:
        channel = connection.channel()
        if kind == "queue":
            channel.queue_declare(name, passive=True)
        else:
            channel.exchange_declare(name, passive=True)
        return True
    except pika.exceptions.ChannelClosedByBroker as closed:
        assert closed.reply_code == 404, closed
        return False
    finally:
        if connection.is_open:
            connection.close()


def test_the_ceiling_writes_every_order_to_the_end():
    result = run_ceiling(ORDERS)

    _assert_every_order_complete(result["audit"], ORDERS)
    assert result["orders"] == ORDERS and result["transactions_per_order"] == 13
    assert result["per_second"] > 0 and result["cpu_ms_per_order"] > 0


def test_the_celery_saga_confirms_every_order_and_leaves_no_queue():
    result = run_celery_saga(ORDERS)

    throughput = result["throughput"]
    assert result["refused"] == 0
    assert throughput["accepted"] == throughput["confirmed"] == throughput["emailed"] == ORDERS, throughput
    assert throughput["latency_ms"]["99"] > 0 and throughput["per_second"] > 0
    _assert_every_order_complete(result["audit"], ORDERS)
    assert set(result["cpu_ms_per_order"]) >= {f"celery {service}" for service in
                                               ("accounts", "catalog", "cart", "orders", "payments", "notifications")}
    assert all(code == 0 for code in result["exit_codes"].values()), result["exit_codes"]
    assert len(result["queues"]) == 6 and not any(_exists("queue", queue) for queue in result["queues"])
    assert len(result["exchanges"]) == 7 and not any(_exists("exchange", name) for name in result["exchanges"])
