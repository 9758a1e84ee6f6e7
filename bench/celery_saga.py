"""The peer of the whole shop: the same saga as Celery tasks on the same RabbitMQ, measured like run_shop.

What runs
---------
The state is the end-to-end benchmark's (``bench.ceiling.seeded_shop``: fresh
SQLite databases, customers made by ``bench/seed.py``). Then the processes
are as many as the shop's consumers: gunicorn as tests/e2e/shop.py runs the
web (2 workers, 4 threads), under ``bench.celery_settings``, whose one extra
view ``POST /bench/celery-checkout/`` (``bench.celery_web``) writes the cart
checkout and sends the chain from ``transaction.on_commit``; and six Celery
workers, one per app, each consuming only its app's queue with ``-P solo``
(one process, one task at a time, like the shop's one consumer process per
service; prefork would add a parent process per worker). The tasks are the
steps of ``bench.saga_writes``, each one transaction on its app's database
(``bench.celery_saga_app``: acks late, persistent messages, prefetch 64).

Why a chain
-----------
The saga is one ``celery.chain`` of the twelve steps, sent by the web. A
chain is how a Django team writes a fixed sequence in Celery: the order of
the steps is written once, in one place (as the shop's handler mappings show
its flow), and the step functions know nothing of Celery or of each other.
Celery sends the next task after a task returns, i.e. after its transaction
committed, so no step starts on uncommitted data; each message carries the
rest of the chain. Each task enqueuing the next (``on_commit``) would allow
the shop's parallel legs, but spreads the flow over the tasks and changes
nothing that is measured here: the steps that do not lead to the confirmation
come after it in the chain, so the latency to it has the shop's number of
hops (place, reserve, request payment, charge, confirm).

Measured like ``bench.end_to_end.run_shop``: its ``Load`` (closed loop, 16
clients; then, if asked, arrivals at a fixed rate with ``end_to_end.fixed_rate``),
its phase (wait until every confirmation email is written, then read the times
from the databases with ``bench.probe``), its ``CpuMeter``.

What this saga lacks, compared with the shop
--------------------------------------------
Each of these is true of the code here, not of Celery in general:

- No outbox. The chain is published after the cart's commit: a web process
  that dies, or a broker that cannot be reached, between the commit and the
  publish leaves an emptied cart and a checkout whose order never exists.
  The same holds inside the chain: Celery publishes the next step after the
  task's commit and before its ack, without publisher confirms, so a message
  the broker loses (or never took) ends the saga silently.
- No inbox, no idempotency. With acks late, a task whose worker dies after
  its commit and before its ack is delivered again and its step runs again.
  Celery sends the next step between the commit and the ack, so the first
  run may or may not have passed the saga on. What the second run does
  depends on the step: a second ``order_place``, ``stock_reserve``,
  ``payment_charge``, ``customer_order_record`` or ``inbox_item_record``
  fails on a unique key, a second ``payment_request`` or ``order_confirm``
  finds the order moved on and fails, and if the first run had not passed
  the saga on, it stops there for good (the order never confirms, or never
  gets its summary or inbox item); a second ``notification_send`` sends the
  email again before its insert fails; a second ``order_note_notified`` adds
  its event twice; ``stock_commit``, ``checkout_mark_placed`` and
  ``stock_replica_update`` change nothing the second time.
- No retry or dead-letter topology. A task that raises is acknowledged
  (Celery's default, ``task_acks_on_failure_or_timeout``) and logged: the
  saga stops at that step, the message is gone, and there is nothing to list
  or replay. The shop retries with growing delays, then parks the message in
  a dead-letter queue that staff can replay.
- No compensation. Missing stock or a declined card stops the chain: no
  cancellation, no stock release, no refund, no restored cart, no email.
- Order of steps instead of status guards and versions. The steps rely on
  running in the chain's order; the shop's handlers are written for messages
  that come late, twice or out of order, and for several copies of each
  consumer.
- No schema checks, versions or upcasters on the messages (a chain carries
  the JSON of whatever the tasks return), no correlation or
  causation ids, no tracing across the steps.
- Connections: Celery's workers reconnect to the broker, and a publish is
  retried (its default policy: three more tries within about a second);
  a broker away for longer fails the checkout's publish after its commit,
  which is the lost order of the first point (the shop's relay keeps the
  message in the outbox until the broker confirms it).

Usage: ``python -m bench.celery_saga --orders 200`` prints the JSON report.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import subprocess
import sys
from contextlib import closing

from tests.e2e.shop import Shop

from .ceiling import consumer_count, seeded_shop, wait_until
from .common import ROOT, SERVICES, Sizes, delete_queues, remove_temp_dirs, rss_kib, run_json, run_prefix
from .end_to_end import Load, fixed_rate, fixed_rate_customers, measured

CHECKOUT_PATH = "/bench/celery-checkout/"


def _settled(shop: Shop, orders: int) -> bool:
    """Whether every chain has run to its end: its last two steps are the cart's.

    Read straight from the SQLite files (as ``end_to_end._emails`` does), so
    that polling costs no Django start-up: every checkout is marked placed,
    and the cart's copy of each product's availability has caught up with the
    catalog's (only the newest reservation's count sticks).
    """
    def query(service: str, sql: str) -> list[tuple]:
        uri = f"file:{shop.workdir / 'db' / f'{service}.sqlite3'}?mode=ro"
        with closing(sqlite3.connect(uri, uri=True, timeout=10)) as connection:
            return connection.execute(sql).fetchall()

    placed = query("cart", "SELECT count(*) FROM cart_checkout WHERE placed_at IS NOT NULL")[0][0]
    on_hand = dict(query("catalog", "SELECT id, stock_on_hand FROM catalog_product"))
    replica = dict(query("cart", "SELECT product_id, available FROM cart_productreplica"))
    return placed >= orders and replica == on_hand


def run_celery_saga(orders: int, *, concurrency: int = 16, step=lambda what: None,
                    latency: Sizes | None = None) -> dict:
    """``orders`` checkouts through the bench's view, closed loop, until each order's email is written.

    With ``latency``, then checkouts at that run's fixed rate on the same started shop
    (``end_to_end.fixed_rate``: ``e2e_rate`` orders/s, ``latency_windows`` windows, the worst
    reported), as run_shop measures the shop's. ``step`` is told what starts next, as run_shop's is.
    """
    customers_wanted = orders + (fixed_rate_customers(latency) if latency else 0)
    step(f"Celery saga: {customers_wanted} customers")
    shop, customers = seeded_shop("celery-saga", customers_wanted)
    prefix = run_prefix("celery-saga")
    shop.env["BENCH_SAGA_PREFIX"] = prefix
    queues = [f"{prefix}.{service}" for service in SERVICES]
    exchanges = [*queues, f"{prefix}.celeryev"]  # celery_saga_app.EVENT_EXCHANGE of this prefix
    result: dict = {"orders": orders, "queues": queues, "exchanges": exchanges,
                    "workers": "one per app, -P solo, prefetch 64"}
    try:
        step("Celery saga: starting the web and six workers")
        shop.start("web", env={"DJANGO_SETTINGS_MODULE": "bench.celery_settings"})
        for service, queue in zip(SERVICES, queues):
            with open(shop.workdir / f"celery-{service}.log", "ab") as log:
                shop.processes[f"celery {service}"] = subprocess.Popen(
                    [sys.executable, "-m", "celery", "-A", "bench.celery_saga_app", "worker", "-P", "solo",
                     "-Q", queue, "-n", f"{service}@{prefix}", "--without-gossip", "--without-mingle",
                     "-l", "WARNING"],
                    cwd=ROOT, env=shop.env, stdout=log, stderr=subprocess.STDOUT,
                )
        shop.wait_for_web()
        wait_until(lambda: all(consumer_count(queue) for queue in queues), "the six workers", 120, shop.processes)
        load = Load(shop, customers, path=CHECKOUT_PATH)
        step(f"Celery saga: {orders} checkouts, closed loop")
        result["throughput"] = measured(shop, load, lambda: load.closed_loop(orders, concurrency), expected=orders)
        result["cpu_ms_per_order"] = result["throughput"].pop("cpu_ms_per_order")
        if latency:
            step(f"Celery saga: {latency.e2e_rate:g} orders/s for {latency.e2e_latency_seconds:g} s, "
                 f"{latency.latency_windows} time(s)")
            result["latency"] = fixed_rate(shop, load, latency)
        result["refused"] = load.refused
        result["rss_kib"] = {name: rss_kib(process.pid) for name, process in shop.processes.items()}
        step("Celery saga: the last steps of every chain")
        # The steps after the email (summary, inbox, cart) finish before the workers are stopped.
        wait_until(lambda: _settled(shop, len(load.sent)), "the last steps of every chain", 60, shop.processes)
    finally:
        step("Celery saga: stopping")
        try:
            result["exit_codes"] = shop.down()
        finally:
            delete_queues(*queues, exchanges=tuple(exchanges))
    step("Celery saga: the audit")
    result["audit"] = run_json("bench.ceiling", shop.env, "audit")
    return result


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.celery_saga", description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=200)
    args = parser.parse_args(argv)
    result = run_celery_saga(args.orders)
    result["throughput"].pop("latencies_ms", None)  # every order's latency: for plots, too long to print
    print(json.dumps(result))
    remove_temp_dirs()  # kept after a failure, to read the logs


if __name__ == "__main__":
    main(sys.argv[1:])
