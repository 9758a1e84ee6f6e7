"""What every measurement shares: sizes, the broker, child processes, the clock."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pika

from shopsite.bus.names import Names  # the shop's own naming (reads no settings until asked)

ROOT = Path(__file__).resolve().parents[1]
BROKER_URL = os.environ.get("BENCH_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")
SERVICES = ["accounts", "catalog", "cart", "orders", "payments", "notifications"]


@dataclass(frozen=True)
class Sizes:
    """How much each measurement does: the full run, or a few seconds for CI."""

    publish_one_by_one: int
    publish_batched: int
    publish_batch: int
    consume: int
    db_ceiling: int
    celery: int
    relay: int
    consumer: int
    e2e_orders: int
    e2e_rate: float
    e2e_latency_seconds: float
    soak_seconds: float
    soak_rate: float
    e2e_postgres: bool
    e2e_copies: bool
    consumer_variants: bool
    #: The measurements behind a target ratio are taken this many times; the report gives the median.
    repeats: int = 1
    #: Windows of the fixed-rate latency run; the report judges the worst one.
    latency_windows: int = 1
    #: Then one window (``e2e_latency_seconds`` long) at each of these lower rates: what an order costs as the
    #: arrivals thin out and a consumer's batches shrink to one delivery (section 4's CPU table by rate).
    rate_sweep: tuple[float, ...] = ()
    #: Cost as the data grows: the past orders of the short and of the long history, the products and
    #: customers both hold, and the closed-loop checkouts measured on each (enough for half a minute or so
    #: on a fast hour: at 140 orders/s, 1,000 checkouts took seven seconds, and one short history's runs
    #: minutes apart measured 112.7 and 139.1 orders/s).
    growth_orders: tuple[int, int] = (50, 200)
    growth_products: int = 20
    growth_customers: int = 30
    growth_checkouts: int = 10
    #: ... and then, on the same started shop, checkouts arriving at this fixed rate for this long: the
    #: latency to compare (a closed loop's is mostly queueing, and moves with the throughput). The rate is
    #: one every history and database handles with room to spare, so what it measures is each order's path.
    growth_rate: float = 5.0
    growth_rate_seconds: float = 2.0
    #: The shops of both histories are started together and measured in turns (bench/growth.py): each one's
    #: closed loop and fixed rate cut into this many blocks, short, long, long, short, …, after this many
    #: checkouts on each that are not counted. The machine's speed drifts by more than the 10% compared
    #: within minutes; blocks seconds apart see the same machine.
    growth_rounds: int = 2
    growth_warmup: int = 2

    @classmethod
    def full(cls) -> Sizes:
        # About ten minutes on the 2-core machine for the parts of issue 5 (the end-to-end runs are sized
        # for a shop that handles a few dozen orders a second there), a few more for the peers, and
        # 15-25 for growth: writing a 200,000-order history takes 3-6 minutes, and each database's two shops
        # then check out 6,600 orders in all.
        return cls(publish_one_by_one=10_000, publish_batched=50_000, publish_batch=500, consume=50_000,
                   db_ceiling=5_000, celery=5_000, relay=10_000, consumer=5_000,
                   e2e_orders=1000, e2e_rate=50.0, e2e_latency_seconds=10.0,
                   soak_seconds=240.0, soak_rate=10.0, e2e_postgres=True, e2e_copies=True,
                   consumer_variants=True, repeats=3, latency_windows=3, rate_sweep=(10.0, 30.0, 40.0),
                   growth_orders=(1_000, 200_000), growth_products=10_000, growth_customers=50_000,
                   growth_checkouts=3000, growth_rate=15.0, growth_rate_seconds=60.0, growth_rounds=6,
                   growth_warmup=300)

    @classmethod
    def smoke(cls) -> Sizes:
        return cls(publish_one_by_one=200, publish_batched=500, publish_batch=100, consume=500,
                   db_ceiling=100, celery=100, relay=200, consumer=100,
                   e2e_orders=10, e2e_rate=10.0, e2e_latency_seconds=1.0,
                   soak_seconds=2.0, soak_rate=5.0, e2e_postgres=False, e2e_copies=False,
                   consumer_variants=False, rate_sweep=(5.0,))


def run_prefix(kind: str) -> str:
    """A broker prefix of this run's own, so nothing collides with tests or other runs."""
    return f"bench-{kind}-{uuid.uuid4().hex[:8]}"


def connect() -> pika.BlockingConnection:
    return pika.BlockingConnection(pika.URLParameters(BROKER_URL))


def delete_queues(*queues: str, exchanges: tuple[str, ...] = ()) -> None:
    wait_for_broker()  # after a broker restart mid-run, still leave nothing behind
    connection = connect()
    try:
        channel = connection.channel()
        for queue in queues:
            channel.queue_delete(queue)
        for exchange in exchanges:
            channel.exchange_delete(exchange)
    finally:
        connection.close()


def delete_shop_topology(prefix: str, retry_delays: list[float]) -> None:
    """Every queue and the exchange a shop with this prefix declares."""
    names = Names(prefix)
    queues = []
    for service in [*SERVICES, "bench"]:
        queues += [names.queue(service), names.dead_letter_queue(service)]
        queues += [names.retry_queue(service, delay) for delay in retry_delays]
    delete_queues(*queues, exchanges=(names.exchange,))


def queue_depth(channel, queue: str) -> int:
    return channel.queue_declare(queue, passive=True).method.message_count


def rate(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else 0.0


def django_env(data_dir: Path, prefix: str, **extra: str) -> dict[str, str]:
    """The environment of a shop process with its own data folder and broker prefix."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "shopsite.settings",
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": "bench-" + uuid.uuid4().hex,
        "SHOP_DATA_DIR": str(data_dir),
        "BUS_PREFIX": prefix,
        "BUS_DEPLOYMENT": prefix,
        "BUS_RETRY_DELAYS": "0.2,0.5,1",
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
        **extra,
    }


def manage(env: dict[str, str], *args: str, timeout: float = 180) -> str:
    result = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def run_json(module: str, env: dict[str, str], *args: str, timeout: float = 300) -> dict:
    """Run ``python -m module args`` in ``env``; the JSON object it prints last."""
    result = subprocess.run([sys.executable, "-m", module, *args], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0:
        raise RuntimeError(f"{module} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


#: Every folder a run made, removed when it ends well (kept after a failure, to read the logs).
TEMP_DIRS: list[Path] = []


def temp_dir(kind: str) -> Path:
    path = Path(tempfile.mkdtemp(prefix=f"shop-bench-{kind}-"))
    TEMP_DIRS.append(path)
    return path


def remove_temp_dirs() -> None:
    global _template
    while TEMP_DIRS:
        shutil.rmtree(TEMP_DIRS.pop(), ignore_errors=True)
    _template = None


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process used so far, from /proc (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children(pid: int) -> list[int]:
    """The direct children of a process (gunicorn's workers under its master)."""
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def pids_named(name: str, *, mentioning: bytes = b"") -> list[int]:
    """Processes whose name is ``name`` (and whose command line mentions ``mentioning``)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == name and mentioning in (entry / "cmdline").read_bytes():
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


def broker_pids() -> list[int]:
    """RabbitMQ's Erlang VM (the biggest one: rabbitmqctl runs short-lived VMs of its own)."""
    return sorted(pids_named("beam.smp", mentioning=b"rabbit"), key=rss_kib)[-1:]


def median_of(repeats: int, measure) -> dict:
    """Run ``measure`` ``repeats`` times; the run with the median rate, with every run's rate beside it."""
    runs = sorted((measure() for _ in range(max(1, repeats))), key=lambda run: run["per_second"])
    return {**runs[len(runs) // 2], "runs_per_second": [run["per_second"] for run in runs]}


def rss_kib(pid: int) -> int:
    """Resident set size of a process, from /proc (0 once it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


class Stopwatch:
    def __enter__(self) -> Stopwatch:
        self.started = time.perf_counter()
        return self

    def __exit__(self, *exc) -> None:
        self.seconds = time.perf_counter() - self.started


_template: Path | None = None


def migrated_data_dir(kind: str) -> Path:
    """A fresh data folder with every service's SQLite database migrated (migrated once per run, then copied)."""
    global _template
    if _template is None:
        _template = temp_dir("template")
        manage(django_env(_template, run_prefix("migrate")), "migrate_all")
    data_dir = temp_dir(kind)
    shutil.copytree(_template / "db", data_dir / "db")
    return data_dir


#: What went wrong and was measured again, for the report.
RETRIES: list[str] = []


def retrying(what: str, measure, attempts: int = 3):
    """Run ``measure()`` once the broker answers; again if it fails.

    The broker is shared: another run's test may restart it mid-measurement
    (the shop's processes reconnect, a bare pika loop does not). The report
    lists every retry.
    """
    for attempt in range(1, attempts + 1):
        try:
            wait_for_broker()
            return measure()
        except Exception as exc:
            if attempt == attempts:
                raise
            RETRIES.append(f"{what}: {type(exc).__name__}: {str(exc)[:200]} (measured again)")
            time.sleep(2)


def wait_for_broker(timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            connect().close()
            return
        except pika.exceptions.AMQPError:
            if time.monotonic() > deadline:
                raise
            time.sleep(1)
