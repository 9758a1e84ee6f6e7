"""A message that kills its consumer process reaches the dead-letter queue alone.

The consumer runs as a real ``manage.py consume_orders`` process that a fault
kills (``os._exit``) on the poison; a loop restarts it as an orchestrator
would. The queue is a quorum queue whose delivery limit counts every return,
including the messages that were merely prefetched when the process died.
"""

import itertools
import logging
import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connections

from shopsite import contracts
from shopsite.bus.connection import connect, declare_service
from shopsite.bus.envelope import Envelope

from .test_batches import waiting
from .test_rabbitmq import SERVICE, consume, declared, raw_publish

pytestmark = pytest.mark.broker

ROOT = Path(__file__).resolve().parents[2]
CRASH = 70  # faults.py's exit code for "crash:"


def body(message) -> bytes:
    return Envelope.wrap(message, producer="test", correlation_id=uuid.uuid4()).to_json().encode()


class Orders:
    """``consume_orders`` in a process of its own, restarted whenever the poison kills it."""

    def __init__(self, workdir: Path, env: dict[str, str]) -> None:
        self.workdir = workdir
        self.env = {**os.environ, "DJANGO_SETTINGS_MODULE": "shopsite.settings", "SHOP_DATA_DIR": str(workdir),
                    "PYTHONUNBUFFERED": "1", **env}
        self.process: subprocess.Popen | None = None
        self.crashes = 0
        subprocess.run([sys.executable, "manage.py", "migrate", "--database", "orders", "-v0"], cwd=ROOT,
                       env=self.env, check=True, timeout=120)

    def keep_running(self) -> None:
        if self.process is not None and self.process.poll() is not None:
            assert self.process.returncode == CRASH, self.log()
            self.crashes += 1
            self.process = None
        if self.process is None:
            with open(self.workdir / "orders.log", "ab") as log:
                self.process = subprocess.Popen([sys.executable, "manage.py", "consume_orders"], cwd=ROOT,
                                                env=self.env, stdout=log, stderr=subprocess.STDOUT)

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=20)
        elif self.process.returncode == CRASH:
            self.crashes += 1

    def handled(self) -> set[str]:
        with sqlite3.connect(self.workdir / "db" / "orders.sqlite3") as db:
            return {uuid.UUID(row[0]).hex for row in db.execute("SELECT message_id FROM orders_inboxmessage")}

    def log(self) -> str:
        return (self.workdir / "orders.log").read_text(errors="replace")


def depth(queue: str) -> int:
    connection = connect()
    try:
        return connection.channel().queue_declare(queue, passive=True).method.message_count
    finally:
        connection.close()


def take_all(queue: str) -> list[tuple]:
    connection = connect()
    try:
        channel = connection.channel()
        taken = []
        while (got := channel.basic_get(queue, auto_ack=True))[0] is not None:
            taken.append(got[1:])
        return taken
    finally:
        connection.close()


def test_a_message_that_kills_its_consumer_is_dead_lettered_alone_and_its_window_is_handled(
    bus_names, settings, tmp_path
):
    # A delivery limit of 1: a message returned twice is dropped. Before, the
    # innocent messages prefetched beside the poison were returned with it on
    # each crash and dead-lettered with it.
    settings.BUS = {**settings.BUS, "QUEUE_TYPE": "quorum", "DELIVERY_LIMIT": 1}
    connection = connect()
    declare_service(connection.channel(), "orders", bus_names)
    connection.close()
    innocents = [contracts.StockReleased(order_id=uuid.uuid4(), lines=[]) for _ in range(10)]
    bodies = [body(m) for m in innocents[:5]]
    poison = contracts.PaymentRefunded(order_id=uuid.uuid4(), charge_id=uuid.uuid4(), refund_id=uuid.uuid4(),
                                       amount="1.00")
    bodies.append(body(poison))
    bodies += [body(m) for m in innocents[5:]]
    ids = [Envelope.from_json(b).id.hex for b in bodies]
    poison_id, innocent_ids = ids[5], set(ids[:5] + ids[6:])
    for message_body, message in zip(bodies, innocents[:5] + [poison] + innocents[5:]):
        raw_publish(bus_names, message_body, routing_key=message.TYPE)  # waiting before the consumer starts

    orders = Orders(tmp_path, {
        "BUS_PREFIX": bus_names.prefix, "BUS_DEPLOYMENT": django_settings.BUS["DEPLOYMENT"],
        "BUS_QUEUE_TYPE": "quorum", "BUS_DELIVERY_LIMIT": "1", "BUS_PREFETCH": "64",
        "BUS_FAULTS": "crash:orders.note-refund",
    })
    dead = bus_names.dead_letter_queue("orders")
    deadline = time.monotonic() + 30
    try:
        while not (orders.handled() >= innocent_ids and depth(dead) >= 1) and time.monotonic() < deadline:
            orders.keep_running()
            time.sleep(0.1)
    finally:
        orders.stop()

    assert depth(bus_names.queue("orders")) == 0
    parked = take_all(dead)
    assert [Envelope.from_json(b).id.hex for _, b in parked] == [poison_id], orders.log()
    assert orders.handled() == innocent_ids, orders.log()
    # The poison was delivered twice (the limit, plus the delivery that ended it): two crashes, no more.
    assert orders.crashes == 2


@pytest.mark.django_db(databases=["catalog"], transaction=True)
def test_messages_another_copy_left_unacknowledged_are_taken_one_at_a_time(bus_names, caplog):
    alone = {}

    def note(message):
        alone[message.order_id] = not connections["catalog"].savepoint_ids  # a batch gives each a savepoint

    consumer = declared(note)
    # Another copy of the consumer takes ten messages and dies without acknowledging them.
    left = set(waiting(10))
    other = connect()
    other_channel = other.channel()
    other_channel.basic_qos(prefetch_count=10)
    held = [m for m, _, _ in itertools.islice(other_channel.consume(bus_names.queue(SERVICE),
                                                                     inactivity_timeout=2), 10)]
    assert all(held)
    fresh = set(waiting(10))

    def the_other_copy_dies_once_this_one_runs_at_full_prefetch() -> bool:
        if consumer.handled == len(fresh) and other.is_open:
            other.close()
        return consumer.handled == len(fresh) + len(left)

    with caplog.at_level(logging.INFO, logger="shopsite.bus.consumer"):
        consume(consumer, until=the_other_copy_dies_once_this_one_runs_at_full_prefetch)

    assert set(alone) == left | fresh
    assert all(alone[order_id] for order_id in left)
    assert "taking redelivered messages one at a time" in caplog.text
