"""The physical limits: bare pika against the same RabbitMQ, and the bare database transaction.

Each function returns a dict of figures; none of them touches the shop's code
except the database ceiling, which runs the ORM transaction a handler runs.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone

import pika

from .common import (Sizes, Stopwatch, connect, delete_queues, django_env, manage, median_of, migrated_data_dir,
                     queue_depth, rate, run_json, run_prefix)

PROPERTIES = dict(content_type="application/json", delivery_mode=pika.DeliveryMode.Persistent)


def sample_body() -> bytes:
    """A message the size of a real envelope (about 400 bytes of JSON)."""
    return json.dumps({
        "id": str(uuid.uuid4()), "type": "stock.released", "version": 1,
        "occurred_at": datetime.now(timezone.utc).isoformat(), "producer": "catalog",
        "correlation_id": str(uuid.uuid4()), "causation_id": str(uuid.uuid4()),
        "payload": {"order_id": str(uuid.uuid4()), "lines": [{"product_id": 1, "quantity": 2}]},
    }, separators=(",", ":")).encode()


class _Topology:
    """A durable topic exchange and one durable queue bound to it, as the shop declares them."""

    def __init__(self, kind: str) -> None:
        prefix = run_prefix(kind)
        self.exchange, self.queue, self.key = f"{prefix}.events", f"{prefix}.q", "stock.released"

    def __enter__(self) -> _Topology:
        connection = connect()
        channel = connection.channel()
        channel.exchange_declare(self.exchange, exchange_type="topic", durable=True)
        channel.queue_declare(self.queue, durable=True, arguments={"x-queue-type": "classic"})
        channel.queue_bind(self.queue, self.exchange, routing_key=self.key)
        connection.close()
        return self

    def __exit__(self, *exc) -> None:
        delete_queues(self.queue, exchanges=(self.exchange,))


def publish_one_by_one(count: int) -> dict:
    """BlockingChannel in confirm mode: every basic_publish waits for its own confirm."""
    body = sample_body()
    with _Topology("raw1") as topology:
        connection = connect()
        channel = connection.channel()
        channel.confirm_delivery()
        properties = pika.BasicProperties(**PROPERTIES)
        with Stopwatch() as clock:
            for _ in range(count):
                channel.basic_publish(topology.exchange, topology.key, body, properties, mandatory=True)
        depth = queue_depth(channel, topology.queue)
        connection.close()
    return {"messages": count, "seconds": clock.seconds, "per_second": rate(count, clock.seconds),
            "in_queue": depth}


def publish_batched(channel, exchange: str, key: str, bodies, batch: int, headers: dict | None = None) -> int:
    """Publish in batches of ``batch``, waiting once per batch for all its confirms.

    Uses the asynchronous channel under the BlockingChannel, so publishing does
    not wait; the connection then reads the broker's (often multiple) acks
    until the last delivery tag of the batch is confirmed.
    """
    impl, connection = channel._impl, channel.connection
    state = {"confirmed": 0, "nacked": 0, "selected": False}

    def on_confirm(frame) -> None:
        method = frame.method
        state["nacked" if isinstance(method, pika.spec.Basic.Nack) else "confirmed"] = method.delivery_tag

    def wait_for(done) -> None:
        # process_data_events would wait out its time limit: the blocking
        # connection does not see callbacks served on the asynchronous channel.
        # Its own wait (the one BlockingChannel's confirms use) stops at ``done``.
        connection._flush_output(done)

    impl.confirm_delivery(ack_nack_callback=on_confirm, callback=lambda _: state.update(selected=True))
    wait_for(lambda: state["selected"])
    properties = pika.BasicProperties(**PROPERTIES, headers=headers)
    tag = 0
    pending = []
    for body in bodies:
        impl.basic_publish(exchange, key, body, properties, mandatory=True)
        tag += 1
        pending.append(tag)
        if len(pending) == batch:
            wait_for(lambda: max(state["confirmed"], state["nacked"]) >= tag)
            pending.clear()
    wait_for(lambda: max(state["confirmed"], state["nacked"]) >= tag)
    return tag


def publish_batched_confirms(count: int, batch: int) -> dict:
    body = sample_body()
    with _Topology("raw2") as topology:
        connection = connect()
        channel = connection.channel()
        with Stopwatch() as clock:
            publish_batched(channel, topology.exchange, topology.key, (body for _ in range(count)), batch)
        depth = queue_depth(channel, topology.queue)
        connection.close()
    return {"messages": count, "batch": batch, "seconds": clock.seconds, "per_second": rate(count, clock.seconds),
            "in_queue": depth}


def consume_manual_acks(count: int, prefetch: int = 32) -> dict:
    """Pre-load ``count`` messages, then consume them acking each one (prefetch > 1)."""
    body = sample_body()
    with _Topology("raw3") as topology:
        connection = connect()
        channel = connection.channel()
        publish_batched(channel, topology.exchange, topology.key, (body for _ in range(count)), 1000)
        channel.close()
        channel = connection.channel()
        channel.basic_qos(prefetch_count=prefetch)
        seen = 0

        def on_message(ch, method, properties, body) -> None:
            nonlocal seen
            ch.basic_ack(method.delivery_tag)
            seen += 1
            if seen == count:
                ch.stop_consuming()

        channel.basic_consume(topology.queue, on_message)
        with Stopwatch() as clock:
            channel.start_consuming()
        connection.close()
    return {"messages": count, "prefetch": prefetch, "seconds": clock.seconds,
            "per_second": rate(count, clock.seconds)}


def db_ceiling(count: int, *, inbox: str = "orm", database_url: str | None = None) -> dict:
    """The handler's transaction (inbox + state change + outbox) in a loop, no broker, in a fresh shop database."""
    data_dir = migrated_data_dir("db")
    extra = {"BUS_PUBLISH_ON_COMMIT": "false"}
    if database_url:
        extra["ORDERS_DATABASE_URL"] = database_url
    env = django_env(data_dir, run_prefix("db"), **extra)
    if database_url:
        manage(env, "migrate", "--database", "orders")
    return run_json("bench.workloads", env, "db-ceiling", str(count), inbox)


def run_all(sizes: Sizes, step) -> dict:
    results = {}
    step("bare pika: publish, one confirm each")
    results["publish_one_by_one"] = median_of(sizes.repeats, lambda: publish_one_by_one(sizes.publish_one_by_one))
    step("bare pika: publish, batched confirms")
    results["publish_batched"] = publish_batched_confirms(sizes.publish_batched, sizes.publish_batch)
    step("bare pika: consume with manual acks")
    results["consume"] = consume_manual_acks(sizes.consume)
    step("bare database transaction (SQLite)")
    results["db_ceiling"] = median_of(sizes.repeats, lambda: db_ceiling(sizes.db_ceiling))
    if sizes.consumer_variants:
        results["db_ceiling_bus"] = db_ceiling(sizes.db_ceiling, inbox="bus")
        results["db_ceiling_bus_batch"] = db_ceiling(sizes.db_ceiling, inbox="bus-batch")
    return results
