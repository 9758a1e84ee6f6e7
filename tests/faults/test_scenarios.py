"""The reliability suite: the real processes and the real RabbitMQ under faults, then an audit.

FAULT_SCALE sizes the load (1.0 for the figures in docs/reliability.md;
CI runs a reduced size). Every scenario is bounded in time and loopback only.
"""

import json
import threading
import time
import uuid

import pika
import pytest

from shopsite.bus.names import Names
from tests.e2e.shop import CONSUMERS

from .harness import FaultRun, rabbitmqctl, scaled

pytestmark = pytest.mark.e2e


def test_broker_restart_under_load(fault_run):
    run: FaultRun = fault_run()
    products = [run.product(stock=1000, price="9.99"), run.product(stock=1000, price="19.99")]
    customers = run.customers(scaled(300))
    run.fill_carts(customers, products)
    first, second = customers[: len(customers) // 2], customers[len(customers) // 2:]

    load = threading.Thread(target=run.checkout_all, args=(first,))
    load.start()
    time.sleep(0.5)  # the first checkouts are in flight
    rabbitmqctl("stop_app")
    try:
        run.checkout_all(second)  # the web keeps taking checkouts: they wait in the outbox
        down_accepted = len(run.accepted)
        time.sleep(3)
    finally:
        rabbitmqctl("start_app")
    back = time.monotonic()
    load.join()

    audit = run.settle(timeout=180)
    recovery = time.monotonic() - back
    run.check(audit)
    assert not run.refused
    assert "lost the broker" in run.shop.logs()  # the consumers really were cut off
    run.record("broker restart under load", audit, faults=1, recovery=recovery, accepted_while_down=down_accepted)


def test_consumers_killed_at_random_during_load(fault_run):
    run = fault_run()
    products = [run.product(stock=1000)]
    customers = run.customers(scaled(200))
    run.fill_carts(customers, products)
    run.supervise()

    load = threading.Thread(target=run.checkout_all, args=(customers,))
    load.start()
    kills = run.kill_randomly(kills=scaled(12, minimum=6), within=8)
    load.join()
    last_kill = time.monotonic()

    audit = run.settle(timeout=180)
    run.supervising = False
    run.check(audit)
    assert kills >= 6 and run.restarts >= kills
    run.record("consumer SIGKILL", audit, faults=kills, recovery=time.monotonic() - last_kill)


def test_every_message_published_twice(fault_run):
    run = fault_run({"BUS_PUBLISH_TWICE": "true"})
    products = [run.product(stock=1000)]
    customers = run.customers(scaled(120))
    run.fill_carts(customers, products)
    started = time.monotonic()
    run.checkout_all(customers)

    audit = run.settle(timeout=120)
    run.check(audit)
    counts = run.counts()
    assert counts["duplicates_absorbed"] >= len(customers)
    run.record("every message twice", audit, faults=counts["duplicates_absorbed"],
               recovery=time.monotonic() - started)


def raw_to_queue(prefix: str, service: str, body: bytes) -> None:
    connection = pika.BlockingConnection(pika.URLParameters("amqp://guest:guest@127.0.0.1:5672/%2F"))
    channel = connection.channel()
    channel.confirm_delivery()
    channel.basic_publish("", Names(prefix).queue(service), body, pika.BasicProperties(delivery_mode=2))
    connection.close()


def poison_bodies() -> dict[str, bytes]:
    envelope = {
        "id": str(uuid.uuid4()), "type": "payment.succeeded", "version": 1,
        "occurred_at": "2026-01-01T00:00:00+00:00", "producer": "payments",
        "correlation_id": str(uuid.uuid4()), "causation_id": None,
        "payload": {"order_id": str(uuid.uuid4()), "charge_id": str(uuid.uuid4()), "amount": "1.00"},
    }
    return {
        "malformed JSON": b'{"id": "unterminated',
        "unknown type": json.dumps({**envelope, "type": "order.teleported", "id": str(uuid.uuid4())}).encode(),
        "wrong version": json.dumps({**envelope, "version": 7, "id": str(uuid.uuid4())}).encode(),
    }


def test_poison_messages_are_parked_and_replay_finishes_the_flow(fault_run):
    run = fault_run({"BUS_FAULTS": "raise:orders.handlers.confirm_order"})
    prefix = run.shop.env["BUS_PREFIX"]
    products = [run.product(stock=100)]
    customers = run.customers(scaled(20, minimum=5))
    run.fill_carts(customers, products)
    for body in poison_bodies().values():
        raw_to_queue(prefix, "orders", body)
    run.checkout_all(customers)

    def parked() -> bool:
        return run.queue_depths()[Names(prefix).dead_letter_queue("orders")] == len(customers) + 3

    from tests.e2e.shop import wait_for

    wait_for(parked, timeout=60, interval=0.5, what="the failing payments to be parked")
    letters = run.shop.manage("dead_letters", "list", "--service", "orders")
    for reason in ["malformed JSON", "unknown message type", "version 7 is not supported",
                   "injected failure in orders.handlers.confirm_order"]:
        assert reason in letters
    # The consumer kept serving other messages meanwhile: every order got to awaiting payment.
    assert "awaiting_payment" in run.audit()["statuses"]

    # Fix the cause (restart without the fault), then replay.
    run.shop.stop("orders")
    fixed = time.monotonic()
    run.shop.start("orders", env={"BUS_FAULTS": ""})
    run.shop.manage("dead_letters", "replay", "--service", "orders")

    audit = run.settle(timeout=60)
    run.check(audit, expected_dead={"orders": 3})  # the three unreadable ones stay parked
    assert audit["confirmed"] == len(customers)
    run.record("poison messages + replay", audit, faults=len(customers) + 3, recovery=time.monotonic() - fixed)
