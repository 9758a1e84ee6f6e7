"""The shop in one process: its own code for each order, with no broker, no HTTP server, no process switches.

It starts where the end-to-end benchmark and the ceiling start: fresh SQLite
databases with customers ready to check out, made by ``bench/seed.py`` while
the shop's relay and consumers run (``bench.ceiling.seeded_shop``; they are
stopped before anything is timed). Then one process, for each customer:

* sends the checkout the load generator sends (``POST /api/cart/checkout/``
  with the customer's API token, an Idempotency-Key and the same JSON body)
  through Django's whole stack in-process (``django.test.Client``: the
  middleware chain, DRF, the view), as a gunicorn worker would run it;
* then hands every outbox row the request committed, and every row each
  delivery commits in turn, in the order committed, to each service
  subscribed to its type, through that service's real consumer
  (``Consumer(service)``: the delivery decoded and checked as ``_decode`` does,
  then ``apply_batch`` of one, which is ``apply``: the inbox rows, the
  handlers, one transaction); when nothing is left to deliver, the next
  customer. The delivered rows are marked sent as the publisher marks them
  once the broker confirmed them, a batch at a time. At the end no service
  has an unsent row left (``unsent_left``, counted in every outbox).

The rows are the ones the shop publishes on commit (``BUS_PUBLISH_ON_COMMIT``,
on as in the shop): the consumer's transaction gathers them
(``publisher.collect_committed``) and ``Consumer._publish`` sends them with
pika, which would need a broker (and, without one, would leave them to the
relay after a warning and a pause). So the consumer here is the real one with
only that step overridden: the rows go to this loop's queue instead. The
checkout's rows, which the web hands to its background publisher, are gathered
the same way (``collect_committed`` around the request). Finding the rows by
polling every outbox, as the relay does, would add the polling's queries to
every order, which the shop does not pay (6 to 7 ms of CPU an order in a trial
on the 2-core machine).

It leaves out: HTTP (parsing, sockets, gunicorn), the broker and everything
talking to it (publishing with confirms, consuming, acks), the relay's
sweeps, and process switches and contention between processes. It differs
from the consumers in two ways besides: each delivery is its own transaction
(a batch of one), where a consumer under load takes the deliveries already
waiting together in one transaction (``BUS_BATCH``), and saves a commit per
message; and the rows are marked sent 64 at a time, one UPDATE per outbox, as
a consumer's publisher marks the rows of a batch of confirms together (at 64
rows, or after a quarter of a second). Marking the rows
sent is timed apart from the deliveries.

Together with RabbitMQ's own CPU per order in the end-to-end run it gives a
floor: what the shop would cost if its transport cost nothing but the broker.
Run on PostgreSQL as well (``--database postgresql``, with the server's CPU
measured), it tells what the database alone adds to each order, with nothing
else in the way: the part of PostgreSQL's cost that no change to the
transport can remove.

``python -m bench.in_process --orders 200`` prints the JSON report (``--existing N`` first writes a history
of N past orders into the shop, as bench/growth.py's shops hold); in a
shop's environment, ``python -m bench.in_process run <customers.json>`` is the
timed part.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

import django

from tests.e2e.shop import PostgresDatabases

from .ceiling import audit, seeded_shop
from .common import cpu_seconds, pids_named, remove_temp_dirs, run_json
from .end_to_end import BENCH_ADDRESS, write_history
from .grow import Existing

CHECKOUT_PATH = "/api/cart/checkout/"
#: What the shop's processes get for this measurement on top of the seeded shop's environment.
IN_PROCESS_ENV = {"BUS_PUBLISH_ON_COMMIT": "true"}


def run_in_process(orders: int, database: str = "sqlite", existing: Existing | None = None,
                   statement_texts: Path | None = None) -> dict:
    """Orders per second and CPU per order of the shop's own code in one process, on SQLite or PostgreSQL.

    On PostgreSQL the server's CPU during the timed part is measured too (every ``postgres`` process of the
    machine's server: on a quiet machine, this process's connections; the benchmark runs nothing else).
    With ``existing``, the seeded shop first gets that much history (bench/grow.py), as the growth
    measurement's shops do; with ``statement_texts``, each statement's count and time go to that file.
    """
    databases = PostgresDatabases("shop_bench") if database == "postgresql" else None
    urls = databases.__enter__() if databases else None
    try:
        shop, customers = seeded_shop("inprocess", orders, databases=urls)
        grown = write_history(shop, existing, _stderr, f"in process, {database}") if existing else None
        customers_file = shop.workdir / "customers.json"
        customers_file.write_text(json.dumps(customers))
        result = run_json("bench.in_process", {**shop.env, **IN_PROCESS_ENV}, "run", str(customers_file),
                          *(["--server-cpu"] if databases else []),
                          *([f"--statement-texts={statement_texts.resolve()}"] if statement_texts else []),
                          timeout=max(600, orders * 2))
    finally:
        if databases:
            databases.__exit__(None, None, None)
    return {**result, "database": database, **({"existing": grown} if grown else {})}


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


# --- in the shop's environment ---------------------------------------------------


def _consumer(service: str, sink: list):
    """The service's real consumer, whose publishing step hands the rows its deliveries committed to ``sink``.

    Only ``_publish`` differs: the consumer would send those rows to the broker
    (``process_publisher().send``, then collect the confirms); here they join
    this process's queue of rows to deliver.
    """
    from shopsite.bus.consumer import Consumer

    class InProcessConsumer(Consumer):
        def _publish(self, committed) -> None:
            sink.extend(committed)

    return InProcessConsumer(service)


class Bus:
    """Every service's consumer in this process, the rows waiting for delivery, what was delivered and its cost."""

    def __init__(self) -> None:
        from django.apps import apps
        from django.conf import settings

        self.services = list(settings.SERVICES)
        self.pending: list = []  # (outbox model, row) committed and not yet delivered, oldest first
        self.sent: dict[type, list] = {}  # outbox model -> the ids of its rows delivered, not yet marked sent
        self.consumers = {service: _consumer(service, self.pending) for service in self.services}
        self.outboxes = {service: apps.get_model(service, "OutboxMessage") for service in self.services}
        self.databases = dict(settings.SERVICE_DATABASES)
        # A row goes where the broker would route it: its type is the routing key every subscribed queue binds.
        self.subscribers: dict[str, list[str]] = {}
        for service, consumer in self.consumers.items():
            for message_class in consumer.handlers:
                self.subscribers.setdefault(message_class.TYPE, []).append(service)
        self.reset()

    def reset(self) -> None:
        self.messages = 0
        self.deliveries: Counter[str] = Counter()
        self.delivery_cpu: Counter[str] = Counter()  # seconds of process time, by service
        self.outbox_cpu = 0.0  # the rows' properties and marking them sent
        self._tag = 0

    def _deliver(self, service: str, row, properties, body: bytes) -> None:
        """One delivery of ``row`` to ``service``'s consumer, as it would arrive from its queue."""
        import pika

        consumer = self.consumers[service]
        self._tag += 1
        method = pika.spec.Basic.Deliver(consumer_tag="in-process", delivery_tag=self._tag, redelivered=False,
                                         exchange=consumer.names.exchange, routing_key=row.type)
        failures = consumer.apply_batch([consumer._decode(method, properties, body)])
        if failures:
            raise RuntimeError(f"{service} failed on {row.type} {row.id}:\n{failures[0].traceback}")

    def drain(self) -> int:
        """Deliver the pending rows, and those their deliveries commit, until none is left; how many went out."""
        from shopsite.bus import deployment
        from shopsite.bus.publisher import message_properties

        delivered = 0
        while self.pending:
            outbox, row = self.pending.pop(0)
            clock = time.process_time()
            # What the publisher sends; the consumer checks the deployment's mark.
            properties = message_properties(outbox, row, deployment.mark())
            body = row.body.encode()
            self.outbox_cpu += time.process_time() - clock
            for service in self.subscribers.get(row.type, ()):
                clock = time.process_time()
                self._deliver(service, row, properties, body)
                self.delivery_cpu[service] += time.process_time() - clock
                self.deliveries[service] += 1
            self.sent.setdefault(outbox, []).append(row.id)
            delivered += 1
        from shopsite.bus.publisher import SETTLE_EVERY

        self.mark_sent(SETTLE_EVERY)
        self.messages += delivered
        return delivered

    def mark_sent(self, at_least: int = 1) -> None:
        """Mark the delivered rows sent, one UPDATE per outbox holding ``at_least`` of them, as a publisher marks
        the rows of a batch of confirms (a consumer's, once it holds ``SETTLE_EVERY`` or a quarter second passed)."""
        from shopsite.bus.publisher import mark_sent

        clock = time.process_time()
        for outbox, ids in list(self.sent.items()):
            if len(ids) >= at_least:
                mark_sent(outbox, ids)
                del self.sent[outbox]
        self.outbox_cpu += time.process_time() - clock

    def unsent(self) -> list:
        """Every service's unsent outbox rows, oldest first (what the relay's sweep would find)."""
        rows = [(outbox, row) for service, outbox in self.outboxes.items()
                for row in outbox.objects.using(self.databases[service]).filter(sent_at__isnull=True)]
        return sorted(rows, key=lambda pair: pair[1].created_at)

    def unsent_left(self) -> dict[str, int]:
        return {service: outbox.objects.using(self.databases[service]).filter(sent_at__isnull=True).count()
                for service, outbox in self.outboxes.items()}


def _checkout(client, customer: dict, bus: Bus) -> None:
    """The load generator's checkout (bench/end_to_end.py ``Load.checkout``), through Django in this process."""
    from django.db import close_old_connections

    from shopsite.bus.publisher import collect_committed

    body = json.dumps({"payment_method_id": customer["method"], "shipping_address": BENCH_ADDRESS})
    # What the WSGI handler does around every request (the test client leaves it out, for tests' transactions).
    close_old_connections()
    # The rows the request commits go to the bus here; in the web they go to its background publisher.
    with collect_committed() as committed:
        response = client.post(CHECKOUT_PATH, data=body, content_type="application/json",
                               HTTP_AUTHORIZATION=f"Token {customer['token']}", HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex)
    close_old_connections()
    if response.status_code != 202:
        raise RuntimeError(f"checkout answered {response.status_code}: {response.content[:500]!r}")
    bus.pending.extend(committed)


def _server_cpu() -> float:
    """CPU seconds used so far by the PostgreSQL server's processes (one per connection)."""
    return sum(cpu_seconds(pid) for pid in pids_named("postgres"))


class Statements:
    """How many SQL statements each service's database is sent (every ``execute`` and ``executemany``), by service.

    With ``texts``, also how many times each statement's text was sent and how long its calls took (wall
    time, in this process: the database's work and the driver's), by service: what to look at when cutting
    round trips, or when a statement grows slower with the data.
    """

    def __init__(self, texts: bool = False) -> None:
        from django.conf import settings
        from django.db import connections

        self.counts: Counter[str] = Counter()
        self.texts: dict[str, Counter[str]] | None = {} if texts else None
        self.seconds: dict[str, Counter[str]] = {}
        for service, alias in settings.SERVICE_DATABASES.items():
            connections[alias].execute_wrappers.append(self._wrapper(service))

    def _wrapper(self, service: str):
        def count(execute, sql, params, many, context):
            self.counts[service] += 1
            if self.texts is None:
                return execute(sql, params, many, context)
            self.texts.setdefault(service, Counter())[sql] += 1
            started = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                self.seconds.setdefault(service, Counter())[sql] += time.perf_counter() - started

        return count

    def reset(self) -> None:
        self.counts.clear()
        if self.texts is not None:
            self.texts.clear()
            self.seconds.clear()


def _orders(customers: list[dict], *, server_cpu: bool = False, statement_texts: Path | None = None) -> dict:
    """Every customer's checkout and everything it sets off, one order after the other; what it cost."""
    from django.test import Client

    from shopsite import heap, tracing

    tracing.setup("web")  # as the web's WSGI module does: off unless the OTEL variables ask (they do not here)
    bus = Bus()
    statements = Statements(texts=statement_texts is not None)
    # The shop's own address: with DEBUG off only it is allowed (the test client's "testserver" is not).
    client = Client(enforce_csrf_checks=True, HTTP_HOST="127.0.0.1")
    # What the web process does before the timed run (tests/e2e/shop.py waits for this answer), and whatever
    # seeding left unsent (its consumers took those messages already: the inboxes skip them).
    if client.get("/api/catalog/products/").status_code != 200:
        raise RuntimeError("the product list did not answer")
    bus.pending.extend(bus.unsent())
    left_by_seeding = bus.drain()
    bus.mark_sent()
    bus.reset()
    statements.reset()
    heap.settle()  # as the web and the consumers do once started

    checkout_cpu = 0.0
    server_before = _server_cpu() if server_cpu else 0.0
    cpu_before, started = os.times(), time.perf_counter()
    for customer in customers:
        clock = time.process_time()
        _checkout(client, customer, bus)
        checkout_cpu += time.process_time() - clock
        bus.drain()
    bus.mark_sent()
    seconds = time.perf_counter() - started
    cpu_after = os.times()
    server = _server_cpu() - server_before if server_cpu else 0.0
    cpu = (cpu_after.user + cpu_after.system) - (cpu_before.user + cpu_before.system)
    count = len(customers)

    def per_order(value: float) -> float:
        return value / count if count else 0.0

    deliveries = sum(bus.deliveries.values())
    if statement_texts is not None:
        statement_seconds = statements.seconds
        statement_texts.write_text(json.dumps(
            {service: {sql: {"per_order": per_order(n),
                             "ms_per_order": per_order(statement_seconds[service][sql] * 1000)}
                       for sql, n in texts.most_common()}
             for service, texts in statements.texts.items()},
            indent=1))
    return {
        "orders": count, "seconds": seconds, "per_second": count / seconds if seconds else 0.0,
        "cpu_ms_per_order": per_order(cpu * 1000),
        **({"server_cpu_ms_per_order": per_order(server * 1000)} if server_cpu else {}),
        "cpu_split_ms_per_order": {
            "checkout requests": per_order(checkout_cpu * 1000),
            "deliveries": per_order(sum(bus.delivery_cpu.values()) * 1000),
            "outbox rows marked sent": per_order(bus.outbox_cpu * 1000),
        },
        "delivery_cpu_ms_per_order": {service: per_order(bus.delivery_cpu[service] * 1000)
                                      for service in bus.services},
        "statements_per_order": per_order(sum(statements.counts.values())),
        "statements_by_database": {service: per_order(n) for service, n in sorted(statements.counts.items())},
        "messages_per_order": per_order(bus.messages), "deliveries_per_order": per_order(deliveries),
        "deliveries_by_service": {service: per_order(bus.deliveries[service]) for service in bus.services},
        "left_by_seeding": left_by_seeding, "unsent_left": bus.unsent_left(),
    }


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.in_process", description=__doc__.split("\n\n")[0])
    parser.add_argument("command", nargs="?", choices=["measure", "run"], default="measure")
    parser.add_argument("customers_file", nargs="?", help="run: the customers bench.seed made (JSON)")
    parser.add_argument("--orders", type=int, default=200, help="measure: how many orders (default 200)")
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite", help="measure: where")
    parser.add_argument("--existing", type=int, default=0,
                        help="measure: past orders written into the shop first (bench/grow.py; default none)")
    parser.add_argument("--server-cpu", action="store_true", help="run: measure the PostgreSQL server's CPU too")
    parser.add_argument("--statement-texts", type=Path, help="run: write each statement's text, how many an order "
                                                             "sent and their time, by service, to this JSON file")
    args = parser.parse_args(argv)
    if args.command == "measure":
        existing = Existing(orders=args.existing) if args.existing else None
        print(json.dumps(run_in_process(args.orders, args.database, existing, args.statement_texts)))
        remove_temp_dirs()  # kept after a failure, to read the logs
        return
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shopsite.settings")
    django.setup()
    result = _orders(json.loads(Path(args.customers_file).read_text()), server_cpu=args.server_cpu,
                     statement_texts=args.statement_texts)
    print(json.dumps({**result, "audit": audit()}))


if __name__ == "__main__":
    main(sys.argv[1:])
