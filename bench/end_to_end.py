"""End to end: checkouts through the API until each order is confirmed and its email sent.

The whole shop runs as real processes (tests/e2e/shop.py: gunicorn, the
relay, the six consumers) on SQLite files or on per-run PostgreSQL
databases. Customers are made beforehand (bench/seed.py, not timed); the
timed part is the HTTP checkout and everything the services do over the bus
until the confirmation email is written. Confirmation and email times are
read from the services' databases afterwards (bench/probe.py), so measuring
adds no load while the flow runs.
"""

from __future__ import annotations

import dataclasses
import http.client
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter, deque
from concurrent.futures import ThreadPoolExecutor
from collections.abc import Iterator
from contextlib import closing, contextmanager

from tests.e2e.shop import PostgresDatabases, Shop

from .common import (ROOT, Sizes, broker_pids, children, cpu_seconds, delete_shop_topology, migrated_data_dir,
                     pids_named, retrying, rss_kib, run_json, run_prefix, temp_dir)
from . import machine
from .grow import Existing

RETRY_DELAYS = [0.2, 0.5, 1.0]
#: What a measured shop's processes get on top of tests/e2e/shop.py's environment: quiet logs, and plain
#: http on loopback (with DEBUG off the shop would otherwise insist on HTTPS).
SHOP_ENV = {"LOG_LEVEL": "WARNING", "DJANGO_SSL_REDIRECT": "false", "DJANGO_SECURE_COOKIES": "false",
            "DJANGO_TRUST_X_FORWARDED_PROTO": "false", "DJANGO_HSTS_SECONDS": "0"}
BENCH_ADDRESS = {"name": "Bench Customer", "line1": "1 Bench Street", "city": "Benchville", "postal_code": "12345",
                 "country": "US"}
PRODUCTS = 8


def postgres_version() -> str:
    try:
        result = subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-tAc",
                                 "SHOW server_version"], capture_output=True, text=True, timeout=20)
        return result.stdout.strip() or "not reachable"
    except (OSError, subprocess.TimeoutExpired):
        return "not reachable"


class Load:
    """Checkouts by ready customers, each customer once; the moment each one was sent."""

    def __init__(self, shop: Shop, customers: list[dict], path: str = "/api/cart/checkout/") -> None:
        self.shop = shop
        self.path = path  # another checkout view taking the same request (bench.celery_saga's)
        self.customers = deque(customers)
        self.sent: dict[str, float] = {}
        self.answered: dict[str, float] = {}  # when the 202 came back
        self.refused = 0
        #: Why checkouts were refused: the status and the start of the answer, or the error; a few of each.
        self.refusals: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._local = threading.local()

    def _connection(self) -> tuple[http.client.HTTPConnection, bool]:
        """This client thread's keep-alive connection, and whether it is new: the load generator shares the two
        cores with the shop, so it should cost as little as it can."""
        if not hasattr(self._local, "connection"):
            self._local.connection = http.client.HTTPConnection("127.0.0.1", self.shop.port, timeout=30)
            return self._local.connection, True
        return self._local.connection, False

    def _post(self, body: str, headers: dict) -> tuple[int, bytes]:
        """The checkout's status and answer. A kept connection that gunicorn closed while it was idle (after
        its keep-alive of 2 s: at a low rate a client thread waits longer than that between checkouts) is
        replaced and the checkout sent again, as an HTTP client does with a stale connection; with the same
        Idempotency-Key, so the shop takes it once even if the first copy did arrive."""
        while True:
            connection, fresh = self._connection()
            try:
                connection.request("POST", self.path, body=body, headers=headers)
                response = connection.getresponse()
                return response.status, response.read()
            except (OSError, http.client.HTTPException) as exc:
                self._local.__dict__.pop("connection", None)  # a fresh connection for the next checkout
                connection.close()
                if fresh or not isinstance(exc, ConnectionError):  # BrokenPipeError, RemoteDisconnected, …
                    raise

    def checkout(self) -> None:
        with self._lock:
            customer = self.customers.popleft()
        body = json.dumps({"payment_method_id": customer["method"], "shipping_address": BENCH_ADDRESS})
        headers = {"Authorization": f"Token {customer['token']}", "Idempotency-Key": uuid.uuid4().hex,
                   "Content-Type": "application/json"}
        started = time.time()
        order_id, why = None, ""
        try:
            status, answer = self._post(body, headers)
            if status == 202:
                order_id = json.loads(answer)["order_id"]
            else:
                why = f"{status}: {answer[:200].decode(errors='replace')}"
        except (OSError, http.client.HTTPException, ValueError) as exc:
            why = repr(exc)
        with self._lock:
            if order_id:
                self.sent[order_id] = started
                self.answered[order_id] = time.time()
            else:
                self.refused += 1
                self.refusals[why] += 1

    def closed_loop(self, count: int, concurrency: int = 16) -> None:
        """``count`` checkouts, as fast as ``concurrency`` clients can send them."""
        with ThreadPoolExecutor(concurrency) as pool:
            for future in [pool.submit(self.checkout) for _ in range(count)]:
                future.result()

    def open_loop(self, rate: float, seconds: float) -> None:
        """Checkouts arriving at a fixed rate, whether or not the earlier ones were answered."""
        count = int(rate * seconds)
        started = time.monotonic()
        with ThreadPoolExecutor(64) as pool:
            futures = []
            for n in range(count):
                delay = started + n / rate - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                futures.append(pool.submit(self.checkout))
            for future in futures:
                future.result()


class RssSampler(threading.Thread):
    """The resident size of every shop process, twice a second."""

    def __init__(self, shop: Shop) -> None:
        super().__init__(daemon=True)
        self.shop, self.samples, self.marks = shop, [], []
        self.started_at = time.monotonic()
        self._halt = threading.Event()

    def mark(self, label: str) -> None:
        self.marks.append((time.monotonic() - self.started_at, label))

    def run(self) -> None:
        while not self._halt.wait(0.5):
            now = time.monotonic() - self.started_at
            for name, process in list(self.shop.processes.items()):
                rss = rss_kib(process.pid)
                if rss:
                    self.samples.append((now, name, rss))

    def stop(self) -> None:
        self._halt.set()
        self.join()


def _emails(shop: Shop, order_ids: list[str]) -> int:
    """Confirmation emails sent so far for ``order_ids``, read straight from the notifications database.

    Asked by order (the unique (order_id, kind) index answers), not counted over the whole table: polled
    four times a second, a count would cost more the longer the shop's history (bench/grow.py).
    """
    if not order_ids:
        return 0
    url = shop.env.get("NOTIFICATIONS_DATABASE_URL")
    sql = ("SELECT count(*) FROM notifications_notification WHERE kind = 'order_confirmed' AND status = 'sent' "
           "AND order_id IN ({})")
    if url:
        import psycopg

        with psycopg.connect(url.replace("postgres://", "postgresql://")) as connection:
            return connection.execute(sql.format("%s, " * (len(order_ids) - 1) + "%s"),
                                      [uuid.UUID(order_id) for order_id in order_ids]).fetchone()[0]
    with closing(sqlite3.connect(f"file:{shop.workdir / 'db' / 'notifications.sqlite3'}?mode=ro", uri=True,
                                 timeout=10)) as connection:
        return connection.execute(sql.format(", ".join("?" * len(order_ids))),
                                  [uuid.UUID(order_id).hex for order_id in order_ids]).fetchone()[0]


def _wait_for_emails(shop: Shop, order_ids: list[str], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while _emails(shop, order_ids) < len(order_ids):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.25)
    return True


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


class CpuMeter:
    """CPU time each process of the shop (and the broker, and this load generator) spends in a phase."""

    def __init__(self, shop: Shop) -> None:
        self.postgres = "postgres://" in shop.env.get("ORDERS_DATABASE_URL", "")
        self.pids = {name: process.pid for name, process in shop.processes.items() if name != "web"}
        for n, worker in enumerate(children(shop.processes["web"].pid)):
            self.pids[f"web worker {n + 1}"] = worker
        for n, pid in enumerate(broker_pids()):
            self.pids["RabbitMQ" + (f" {n + 1}" if n else "")] = pid

    def _now(self) -> dict[str, float]:
        times = os.times()
        now = {**{name: cpu_seconds(pid) for name, pid in self.pids.items()},
               "load generator (this process)": times.user + times.system}
        if self.postgres:
            # The server's processes (one per connection, most of them the shop's during the run).
            now["PostgreSQL server"] = sum(cpu_seconds(pid) for pid in pids_named("postgres"))
        return now

    def __enter__(self) -> CpuMeter:
        self.before = self._now()
        return self

    def __exit__(self, *exc) -> None:
        after = self._now()
        self.used = {name: after[name] - self.before[name] for name in after}

    def per_order_ms(self, orders: int) -> dict[str, float]:
        return {name: seconds * 1000 / orders for name, seconds in self.used.items()} if orders else {}


def _phase(shop: Shop, load: Load, run, *, expected: int, timeout: float, raw: bool = False) -> dict:
    """Run ``run`` (a load), wait until every accepted order has its email, then read the times; with ``raw``,
    every order's times to its email and to "placed" as well."""
    sent_before = set(load.sent)
    started = time.time()
    run()
    accepted = {k: v for k, v in load.sent.items() if k not in sent_before}
    settled = _wait_for_emails(shop, list(accepted), timeout)
    orders = run_json("bench.probe", shop.env, str(started - 60))
    to_confirmed, to_email, ends, to_placed = [], [], [], []
    answers = [(load.answered[order_id] - sent) * 1000 for order_id, sent in accepted.items()]
    for order_id, sent in accepted.items():
        status, confirmed_at, emailed_at, placed_at = orders.get(order_id, [None, None, None, None])
        if placed_at is not None:
            to_placed.append((placed_at - sent) * 1000)
        if confirmed_at is not None:
            to_confirmed.append((confirmed_at - sent) * 1000)
        if emailed_at is not None:
            to_email.append((emailed_at - sent) * 1000)
            ends.append(max(emailed_at, confirmed_at or 0))
    seconds = (max(ends) - started) if ends else 0.0
    return {
        "orders": expected, "accepted": len(accepted), "confirmed": len(to_confirmed), "emailed": len(to_email),
        "settled": settled, "seconds": seconds, "per_second": len(to_email) / seconds if seconds else 0.0,
        "latency_ms": percentiles(to_confirmed) | {"max": max(to_confirmed, default=0)},
        "email_latency_ms": percentiles(to_email),
        # The first leg: the checkout request, its message and the orders service placing the order.
        "placed_latency_ms": percentiles(to_placed),
        "answer_latency_ms": percentiles(answers),
        "mean_ms": statistics.fmean(to_confirmed) if to_confirmed else 0.0,
        "latencies_ms": sorted(to_confirmed),
        # Every order's times, for a caller that pools the phases of one shop (bench/growth.py's blocks).
        **({"email_latencies_ms": to_email, "placed_latencies_ms": to_placed} if raw else {}),
    }


def percentiles(values: list[float]) -> dict[str, float]:
    """The p50, p95 and p99 of ``values`` (ms), keyed as the report reads them."""
    return {str(q): _percentile(values, q) for q in (50, 95, 99)}


def fixed_rate_customers(sizes: Sizes) -> int:
    """How many customers ``fixed_rate`` checks out."""
    return int(sizes.e2e_rate * sizes.e2e_latency_seconds) * sizes.latency_windows


def rate_sweep_customers(sizes: Sizes) -> int:
    """How many customers ``rate_sweep`` checks out."""
    return sum(int(rate * sizes.e2e_latency_seconds) for rate in sizes.rate_sweep)


def fixed_rate(shop: Shop, load: Load, sizes: Sizes) -> dict:
    """Latency at ``sizes.e2e_rate`` orders/s: ``sizes.latency_windows`` windows, the worst one with every p99."""
    windows = []
    for _ in range(sizes.latency_windows):
        # At a fixed rate batches are smaller than in the closed loop, so an order can cost more.
        windows.append(_window(shop, load, sizes.e2e_rate, sizes.e2e_latency_seconds))
    # The worst window is the one reported: one lucky window proves nothing about the tail.
    worst = max(windows, key=lambda window: window["latency_ms"]["99"])
    return {**worst, "rate": sizes.e2e_rate, "p99_windows_ms": [window["latency_ms"]["99"] for window in windows],
            "cpu_ms_per_order_windows": [sum(window["cpu_ms_per_order"].values()) for window in windows]}


def rate_sweep(shop: Shop, load: Load, sizes: Sizes) -> list[dict]:
    """One window at each of ``sizes.rate_sweep``: the CPU an order costs, and its latency, as arrivals thin out."""
    rows = []
    for rate in sizes.rate_sweep:
        window = _window(shop, load, rate, sizes.e2e_latency_seconds)
        per_order = window["cpu_ms_per_order"]
        rows.append({"rate": rate, "orders": window["emailed"], "cpu_ms_per_order": sum(per_order.values()),
                     "cpu_ms_per_order_by_process": per_order, "latency_ms": window["latency_ms"]})
    return rows


def _window(shop: Shop, load: Load, rate: float, seconds: float, raw: bool = False) -> dict:
    """Checkouts arriving at ``rate`` for ``seconds`` (``_phase``), with the CPU each process spent per order."""
    count = int(rate * seconds)
    return measured(shop, load, lambda: load.open_loop(rate, seconds), expected=count, raw=raw)


def measured(shop: Shop, load: Load, run, *, expected: int, raw: bool = False) -> dict:
    """``_phase`` with the CPU each process spent per order."""
    with CpuMeter(shop) as cpu:
        phase = _phase(shop, load, run, expected=expected, timeout=max(60, expected / 5), raw=raw)
    return {**phase, "cpu_ms_per_order": cpu.per_order_ms(phase["emailed"])}


def write_history(shop: Shop, existing: Existing, step, label: str) -> dict:
    """Write ``existing``'s history into the shop's migrated databases; rows written per table."""
    step(f"end to end ({label}): a history of {existing.orders:,} orders, {existing.products:,} products, "
         f"{existing.customers:,} customers")
    started = time.monotonic()
    # Its progress goes to our stderr as it comes; the rows written come last on stdout.
    result = subprocess.run([sys.executable, "-m", "bench.grow", *existing.args()], cwd=ROOT, env=shop.env,
                            stdout=subprocess.PIPE, text=True, timeout=3600)
    if result.returncode != 0:
        raise RuntimeError(f"bench.grow failed:\n{result.stdout[-3000:]}")
    return {**dataclasses.asdict(existing), "seconds": time.monotonic() - started,
            "rows": json.loads(result.stdout.strip().splitlines()[-1])}


def run_shop(sizes: Sizes, step, *, database: str = "sqlite", copies: int = 1, latency: bool = True,
             soak: bool = False, env: dict[str, str] | None = None, existing: Existing | None = None) -> dict:
    """One shop measured; ``env`` is added to its processes' environment (e.g. the OTEL variables)."""
    label = f"{database}, {copies} cop{'y' if copies == 1 else 'ies'} of each consumer"
    wanted = sizes.e2e_orders + (fixed_rate_customers(sizes) + rate_sweep_customers(sizes) if latency else 0)
    wanted += int(sizes.soak_rate * sizes.soak_seconds) if soak else 0
    with started_shop(step, label, customers=wanted, database=database, copies=copies, env=env,
                      existing=existing) as (shop, load, result):
        sampler = RssSampler(shop)
        sampler.start()

        step(f"end to end ({label}): {sizes.e2e_orders} checkouts, closed loop")
        # How fast the machine is just before this shop is measured: it drifts by the hour, and runs minutes
        # apart are compared. A fraction of a second of one core, while idle.
        result["python_speed"] = machine.python_speed()
        sampler.mark("throughput")
        result["throughput"] = measured(shop, load, lambda: load.closed_loop(sizes.e2e_orders),
                                        expected=sizes.e2e_orders)
        result["cpu_ms_per_order"] = result["throughput"].pop("cpu_ms_per_order")
        if latency:
            step(f"end to end ({label}): {sizes.e2e_rate:g} orders/s for {sizes.e2e_latency_seconds:g} s, "
                 f"{sizes.latency_windows} time(s)")
            sampler.mark(f"{sizes.e2e_rate:g}/s")
            result["latency"] = fixed_rate(shop, load, sizes)
            if sizes.rate_sweep:
                step(f"end to end ({label}): one window at each of "
                     f"{', '.join(f'{rate:g}' for rate in sizes.rate_sweep)} orders/s")
                result["rate_sweep"] = rate_sweep(shop, load, sizes)
        if soak:
            count = int(sizes.soak_rate * sizes.soak_seconds)
            step(f"end to end ({label}): memory over {sizes.soak_seconds:g} s at {sizes.soak_rate:g} orders/s")
            sampler.mark(f"soak {sizes.soak_rate:g}/s")
            result["soak"] = _phase(shop, load, lambda: load.open_loop(sizes.soak_rate, sizes.soak_seconds),
                                    expected=count, timeout=max(60, count / 5))
            result["soak"]["rate"] = sizes.soak_rate
        sampler.stop()
        result["rss_kib"] = {name: rss_kib(process.pid) for name, process in shop.processes.items()}
        result["rss_samples"] = sampler.samples
        result["rss_marks"] = sampler.marks
    return result


@contextmanager
def started_shop(step, label: str, *, customers: int, database: str = "sqlite", copies: int = 1,
                 env: dict[str, str] | None = None, existing: Existing | None = None
                 ) -> Iterator[tuple[Shop, Load, dict]]:
    """A shop started with ``customers`` ready to check out: (the shop, its load, its result so far), and at
    the end the checkouts it refused (in the result), its processes stopped and its databases and topology gone.

    With ``existing``, the shop's databases first get that much history (bench/grow.py): after the
    migrations and before any process starts, so the writing competes with nothing (a SQLite writer
    would hold up the consumers' and the relay's first transactions) and the shop starts, as a real
    one does, on data already in place. The timed customers and products are made afterwards as always.
    """
    prefix = run_prefix("e2e")
    extra = {"BUS_PREFIX": prefix, "BUS_DEPLOYMENT": prefix, **SHOP_ENV}
    extra.update(env or {})
    databases = PostgresDatabases("shop_bench") if database == "postgresql" else None
    if databases:
        extra.update(databases.__enter__())
    # SQLite files come migrated, copied from the run's template; PostgreSQL's databases are migrated here.
    workdir = temp_dir("e2e") if databases else migrated_data_dir("e2e")
    shop = Shop(workdir, extra)
    result: dict = {"database": database, "copies": copies}
    try:
        if databases:
            shop.manage("migrate_all")
        if existing:
            result["existing"] = write_history(shop, existing, step, label)
        step(f"end to end ({label}): starting the shop")
        shop.up(copies=copies, migrate=False)
        step(f"end to end ({label}): {customers} customers")
        seeded = run_json("bench.seed", shop.env, str(customers), str(PRODUCTS), timeout=600)
        load = Load(shop, seeded["customers"])
        yield shop, load, result
        result["refused"] = load.refused
        result["refusals"] = dict(load.refusals)
    finally:
        shop.down()
        delete_shop_topology(shop.env["BUS_PREFIX"], RETRY_DELAYS)
        if databases:
            databases.__exit__(None, None, None)


def run_all(sizes: Sizes, step) -> dict:
    results = {"sqlite": retrying("end to end, SQLite", lambda: run_shop(sizes, step, soak=True))}
    if sizes.e2e_copies:
        results["sqlite_2"] = retrying("end to end, 2 copies",
                                       lambda: run_shop(sizes, step, copies=2, latency=False))
    if sizes.e2e_postgres:
        results["postgresql"] = retrying("end to end, PostgreSQL",
                                         lambda: run_shop(sizes, step, database="postgresql"))
    return results
