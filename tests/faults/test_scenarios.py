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

from shopsite.bus import deployment
from shopsite.bus.names import Names
from tests.e2e.shop import wait_for

from .harness import FaultRun, broker_connection, scaled

pytestmark = pytest.mark.e2e


def test_broker_restart_under_load(fault_run, lone_broker):
    # The shop's broker is a node of the session's own: the one on 5672 is shared with the rest of the run.
    run: FaultRun = fault_run({"BUS_URL": lone_broker.bus_url()})
    [node] = lone_broker.nodes
    products = [run.product(stock=1000, price="9.99"), run.product(stock=1000, price="19.99")]
    customers = run.customers(scaled(300))
    run.fill_carts(customers, products)
    first, second = customers[: len(customers) // 2], customers[len(customers) // 2:]

    load = threading.Thread(target=run.checkout_all, args=(first,))
    load.start()
    time.sleep(0.5)  # the first checkouts are in flight
    node.stop_app()
    try:
        run.checkout_all(second)  # the web keeps taking checkouts: they wait in the outbox
        down_accepted = len(run.accepted)
        time.sleep(3)
    finally:
        node.start_app()
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


def raw_to_queue(env: dict[str, str], service: str, body: bytes, **properties) -> None:
    """Publish ``body`` straight into the shop's ``service`` queue, marked as the shop's own."""
    connection = broker_connection(env)
    channel = connection.channel()
    channel.confirm_delivery()
    channel.basic_publish("", Names(env["BUS_PREFIX"]).queue(service), body, pika.BasicProperties(
        delivery_mode=2, headers={deployment.HEADER: env["BUS_DEPLOYMENT"]}, **properties))
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


#: How often the parked messages are listed, alternately by the CLI and the console, before the replay (each
#: CLI listing is a Django start-up: CI lists fewer times; tests/admin/test_console.py lists 25 times in process).
LISTINGS = scaled(25, minimum=6)


def test_poison_messages_are_parked_listed_and_replay_finishes_the_flow(fault_run, topology):
    # A delivery limit of 2 on quorum queues: a listing that counted as a delivery would drop them by the third.
    run = fault_run({**topology, "BUS_DELIVERY_LIMIT": "2", "BUS_FAULTS": "raise:orders.confirm-order"})
    prefix = run.shop.env["BUS_PREFIX"]
    products = [run.product(stock=100)]
    customers = run.customers(scaled(20, minimum=5))
    run.fill_carts(customers, products)
    for body in poison_bodies().values():
        raw_to_queue(run.shop.env, "orders", body, message_id=str(uuid.uuid4()))
    run.checkout_all(customers)

    def parked() -> bool:
        return run.queue_depths()[Names(prefix).dead_letter_queue("orders")] == len(customers) + 3

    wait_for(parked, timeout=60, interval=0.5, what="the failing payments to be parked")
    letters = run.shop.manage("dead_letters", "list", "--service", "orders")
    for reason in ["malformed JSON", "unknown message type", "version 7 is not supported",
                   "injected failure in orders.confirm-order"]:
        assert reason in letters
    ids = sorted(json.loads(line)["id"] for line in letters.splitlines())
    assert len(ids) == len(customers) + 3 and None not in ids
    console = run.console()
    for listing in range(LISTINGS):
        if listing % 2:
            page = console.get(run.shop.url("/admin/bus/orders/"), timeout=30)
            assert page.status_code == 200 and all(message_id in page.text for message_id in ids), listing
        else:
            listed = run.shop.manage("dead_letters", "list", "--service", "orders")
            assert sorted(json.loads(line)["id"] for line in listed.splitlines()) == ids, listing
    assert parked(), run.queue_depths()  # still all there, and nothing dropped elsewhere
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
    where = ", three-node cluster, PostgreSQL" if topology else ""
    run.record(f"poison messages, listed {LISTINGS}x, + replay{where}", audit, faults=len(customers) + 3,
               recovery=time.monotonic() - fixed, listings=LISTINGS)


def test_the_last_units_are_sold_exactly_once_with_two_copies_of_each_consumer_on_postgresql(
    fault_run, postgres_databases
):
    run = fault_run(postgres_databases, copies=2)
    units = 5
    scarce = run.product(stock=50)
    customers = run.customers(scaled(60, minimum=20))
    run.fill_carts(customers, [scarce])
    # Only now does the stock fall to the last few units; the carts still
    # believe there are plenty, so every checkout reaches the catalog.
    run.shop.stop("cart")
    run.shop.stop("cart#2")
    adjust = run.shop.call("POST", f"/api/catalog/products/{scarce}/stock/", token=run.staff_token,
                           json={"quantity_delta": units - 50})
    assert adjust.status_code == 200, adjust.text
    started = time.monotonic()
    run.checkout_all(customers, workers=16)
    run.shop.start("cart")
    run.shop.start("cart#2")

    audit = run.settle(timeout=120)
    run.initial_stock[scarce] = units  # what the staff left for sale
    run.check(audit)
    assert audit["confirmed"] == units
    assert audit["statuses"].get("cancelled") == len(customers) - units
    assert audit["products"][str(scarce)] == [0, 0, units]
    run.record("last units, 2x consumers, PostgreSQL", audit, faults=0, recovery=time.monotonic() - started,
               oversubscription=len(customers))


def test_a_handler_slower_than_the_heartbeat_runs_once(fault_run):
    run = fault_run({
        "BUS_URL": "amqp://guest:guest@127.0.0.1:5672/%2F?heartbeat=2&connection_attempts=1&socket_timeout=5",
        "BUS_FAULTS": "slow:payments.payment-requested=5",
    })
    customers = run.customers(2)
    run.fill_carts(customers, [run.product(stock=10)])
    started = time.monotonic()
    run.checkout_all(customers)

    audit = run.settle(timeout=90)
    run.check(audit)
    assert audit["confirmed"] == 2
    assert "lost the broker" not in run.shop.log("payments")
    run.record("slow handler (5 s, heartbeat 2 s)", audit, faults=2, recovery=time.monotonic() - started)


def refund_poison() -> tuple[str, bytes]:
    """A payment.refunded for no order: the flow never sends one, so a fault on its handler hits only this."""
    message_id = str(uuid.uuid4())
    return message_id, json.dumps({
        "id": message_id, "type": "payment.refunded", "version": 1,
        "occurred_at": "2026-01-01T00:00:00+00:00", "producer": "payments",
        "correlation_id": str(uuid.uuid4()), "causation_id": None,
        "payload": {"order_id": str(uuid.uuid4()), "charge_id": str(uuid.uuid4()),
                    "refund_id": str(uuid.uuid4()), "amount": "1.00"},
    }).encode()


def test_quorum_queues_run_the_flow_and_the_delivery_limit_stops_a_poison_message(fault_run):
    run = fault_run({
        "BUS_QUEUE_TYPE": "quorum",
        "BUS_DELIVERY_LIMIT": "2",
        # Crashes the orders consumer on payment.refunded, which this flow never sends but the poison is.
        "BUS_FAULTS": "crash:orders.note-refund",
    })
    run.supervise()
    customers = run.customers(scaled(20, minimum=5))
    run.fill_carts(customers, [run.product(stock=100)])
    _, poison = refund_poison()
    raw_to_queue(run.shop.env, "orders", poison)
    started = time.monotonic()
    run.checkout_all(customers)

    audit = run.settle(timeout=120)
    run.supervising = False
    run.check(audit, expected_dead={"orders": 1})
    assert audit["confirmed"] == len(customers)
    assert "delivery_limit" in run.shop.manage("dead_letters", "list", "--service", "orders")
    run.record("quorum queues + delivery limit", audit, faults=run.restarts, recovery=time.monotonic() - started)


def test_a_poison_that_kills_the_orders_consumer_is_parked_alone_while_checkouts_flow(fault_run, topology):
    limit = 2
    run = fault_run({
        **topology,
        "BUS_QUEUE_TYPE": "quorum",
        "BUS_DELIVERY_LIMIT": str(limit),
        "BUS_FAULTS": "crash:orders.note-refund",  # the process dies, as on a segfault or an OOM kill
    })
    names = Names(run.shop.env["BUS_PREFIX"])
    customers = run.customers(scaled(500, minimum=30))
    run.fill_carts(customers, [run.product(stock=1000)])
    waiting, in_flight = customers[: len(customers) // 2], customers[len(customers) // 2:]

    # Half the checkouts wait in the orders queue with the poison behind them,
    # so the consumer prefetches them together; the other half arrive while it crash-loops.
    run.shop.stop("orders")
    run.checkout_all(waiting)
    wait_for(lambda: run.queue_depths()[names.queue("orders")] == len(run.accepted), timeout=30, interval=0.2,
             what="the waiting checkouts to reach the orders queue")
    poison_id, poison = refund_poison()
    raw_to_queue(run.shop.env, "orders", poison, message_id=poison_id, type="payment.refunded")
    started = time.monotonic()
    run.shop.start("orders")
    run.supervise()
    run.checkout_all(in_flight)

    audit = run.settle(timeout=max(90.0, 0.5 * len(customers)))  # 500 at full size, on a busy machine
    run.supervising = False
    run.check(audit, expected_dead={"orders": 1})
    assert audit["confirmed"] == len(customers)
    # Each delivery of the poison killed the consumer: the limit, and the one past it that parked it.
    assert run.restarts == limit + 1
    listed = run.shop.manage("dead_letters", "list", "--service", "orders")
    [letter] = [json.loads(line) for line in listed.splitlines()]
    assert letter["id"] == poison_id and "delivery_limit" in letter["error"]
    where = "three-node cluster, PostgreSQL" if topology else "one broker"
    run.record(f"poison crash-loop (quorum, limit 2) beside checkouts, {where}", audit, faults=run.restarts,
               recovery=time.monotonic() - started)
