"""The Django side of the bus measurements, run as its own process in a shop environment.

``python -m bench.workloads <what> <count>`` prints one JSON object:
``db-ceiling`` times the handler's transaction with no broker, ``relay``
records outbox rows and times the relay's sweep, ``consumer`` runs the real
consumer on messages already waiting in its queue.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
import uuid

import django


def db_ceiling(count: int, inbox: str = "orm") -> dict:
    """Inbox row + state change + outbox row with no broker: the database work of one handled message.

    ``orm`` is the ceiling of issue 5: one transaction each, written as a
    plain ORM handler would (``objects.create`` for the inbox and outbox rows,
    a guarded ``update`` for the state). ``bus`` runs the same work through
    the bus's own statements (the consumer's inbox insert and
    ``OutboxMessage.record``), one transaction each; ``bus-batch`` does that
    in the consumer's batches (32 a transaction, a savepoint each). The
    consumer against ``bus-batch`` is what the bus adds besides the database.
    """
    from django.db import transaction
    from django.utils import timezone

    from orders.models import InboxMessage, Order, OutboxMessage
    from shopsite.bus.consumer import Consumer
    from shopsite.bus.envelope import Envelope

    from . import handlers

    handlers.create_order()
    minimal = handlers.BY_NAME["minimal"]
    consumer = Consumer("orders", handlers={handlers.IN_TYPE: minimal})
    batch = 32 if inbox == "bus-batch" else 1

    def orm(message) -> None:
        InboxMessage.objects.using("orders").create(
            message_id=uuid.uuid4(), handler=minimal.key, type=handlers.IN_TYPE.TYPE, correlation_id=uuid.uuid4())
        Order.objects.using("orders").filter(pk=handlers.ORDER_ID).update(updated_at=timezone.now())
        out = Envelope.wrap(handlers.outgoing(message.order_id), producer="orders",
                            correlation_id=uuid.uuid4())
        OutboxMessage.objects.using("orders").create(id=out.id, type=out.type, body=out.to_json(),
                                                      correlation_id=out.correlation_id)

    def bus(message) -> None:
        envelope = Envelope.wrap(message, producer="catalog", correlation_id=uuid.uuid4())
        consumer._seen(envelope, minimal)
        minimal(message)

    work = orm if inbox == "orm" else bus
    started, cpu = time.perf_counter(), time.process_time()
    for first in range(0, count, batch):
        with transaction.atomic(using="orders"):
            for _ in range(min(batch, count - first)):
                message = handlers.IN_TYPE(order_id=uuid.uuid4(), lines=[])
                if batch == 1:
                    work(message)
                else:
                    with transaction.atomic(using="orders"):
                        work(message)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    return {"transactions": count // batch, "messages": count, "inbox": inbox, "seconds": seconds,
            "per_second": count / seconds, "cpu_ms_each": cpu / count * 1000}


def relay(count: int) -> dict:
    """Record ``count`` rows with the real OutboxMessage.record, then sweep until every one is confirmed."""
    from django.db import transaction

    from orders.models import OutboxMessage
    from shopsite.bus.connection import connect
    from shopsite.bus.names import Names
    from shopsite.bus.publisher import Publisher, sweep

    from . import handlers

    names = Names.configured()
    sink = names.queue("bench")
    connection = connect()
    channel = connection.channel()
    channel.exchange_declare(names.exchange, exchange_type="topic", durable=True)
    channel.queue_declare(sink, durable=True)
    channel.queue_bind(sink, names.exchange, routing_key=handlers.OUT_TYPE.TYPE)

    started = time.perf_counter()
    for first in range(0, count, 100):
        with transaction.atomic(using="orders"):
            for _ in range(min(100, count - first)):
                OutboxMessage.record(handlers.outgoing(uuid.uuid4()))
    recorded = time.perf_counter() - started

    publisher = Publisher()
    sweeps = published = 0
    started = time.perf_counter()
    while published < count and sweeps < count:
        published += sweep(publisher, only=[OutboxMessage])
        sweeps += 1
    seconds = time.perf_counter() - started
    publisher.close()
    unsent = OutboxMessage.objects.filter(sent_at__isnull=True).count()
    in_queue = channel.queue_declare(sink, passive=True).method.message_count
    connection.close()
    return {"messages": count, "published": published, "unsent": unsent, "in_queue": in_queue, "sweeps": sweeps,
            "seconds": seconds, "per_second": published / seconds, "record_per_second": count / recorded}


def preload(count: int) -> dict:
    """Declare the minimal consumer's queue and fill it with ``count`` envelopes (bare pika, batched confirms)."""
    from shopsite.bus import deployment
    from shopsite.bus.connection import connect, declare_service
    from shopsite.bus.envelope import Envelope
    from shopsite.bus.names import Names

    from . import handlers, raw

    names = Names.configured()
    connection = connect()
    channel = connection.channel()
    declare_service(channel, "orders", names, [handlers.IN_TYPE])
    sink = names.queue("bench")
    channel.queue_declare(sink, durable=True)
    channel.queue_bind(sink, names.exchange, routing_key=handlers.OUT_TYPE.TYPE)
    bodies = (
        Envelope.wrap(handlers.IN_TYPE(order_id=uuid.uuid4(), lines=[]), producer="catalog",
                      correlation_id=uuid.uuid4()).to_json().encode()
        for _ in range(count)
    )
    raw.publish_batched(channel, names.exchange, handlers.IN_TYPE.TYPE, bodies, 500, deployment.mark())
    depth = channel.queue_declare(names.queue("orders"), passive=True).method.message_count
    connection.close()
    return {"loaded": depth}


def consumer(count: int, handler: str = "minimal") -> dict:
    """The real Consumer with the ``minimal`` (or ``noop``) handler, until ``count`` deliveries are handled."""
    from orders.models import InboxMessage, OutboxMessage
    from shopsite.bus.consumer import Consumer

    from . import handlers
    from .common import rss_kib

    handlers.create_order()
    worker = Consumer("orders", handlers={handlers.IN_TYPE: handlers.BY_NAME[handler]})
    clock = {}
    rss: list[int] = []
    sampling = threading.Event()

    def sample() -> None:  # the resident size while it works, to show it levels off
        while not sampling.wait(0.5):
            rss.append(rss_kib(os.getpid()))

    threading.Thread(target=sample, daemon=True).start()

    def done() -> bool:
        # First called right after the first delivery: the clock runs from there.
        clock.setdefault("first", (time.perf_counter(), time.process_time(), worker.handled))
        return worker.handled >= count

    worker.run(until=done)
    sampling.set()
    started, cpu_started, handled_before = clock["first"]
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    handled = worker.handled - handled_before
    return {"messages": count, "handled": worker.handled, "inbox": InboxMessage.objects.count(),
            "unsent_outbox": OutboxMessage.objects.filter(sent_at__isnull=True).count(),
            "seconds": seconds, "per_second": handled / seconds, "cpu_ms_each": cpu / handled * 1000,
            "rss_kib": rss_kib(os.getpid()), "rss_samples_kib": rss, "handler": handler, "batch": worker.batch}


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shopsite.settings")
    django.setup()
    what, count, *options = sys.argv[1:]
    work = {"db-ceiling": db_ceiling, "relay": relay, "preload": preload, "consumer": consumer}[what]
    print(json.dumps(work(int(count), *options)))
