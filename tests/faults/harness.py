"""Load, faults and the audit for the reliability suite."""

from __future__ import annotations

import json
import os
import random
import re
import select
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pika
import requests

from shopsite.bus.connection import split_urls
from shopsite.bus.names import Names
from tests.e2e.shop import CONSUMERS, ROOT, Customer, Shop, wait_for

#: Sizes: the full run for docs/reliability.md, a reduced one in CI.
SCALE = float(os.environ.get("FAULT_SCALE", "0.1"))


def scaled(n: int, minimum: int = 10) -> int:
    return max(minimum, int(n * SCALE))


def broker_connection(env: dict[str, str]) -> pika.BlockingConnection:
    """A connection to the first of the shop's nodes (``BUS_URL``) that answers, as the shop's processes make."""
    urls = split_urls(env.get("BUS_URL") or "amqp://guest:guest@127.0.0.1:5672/%2F")
    return pika.BlockingConnection([pika.URLParameters(url) for url in urls])


def broker_ports(pid: int) -> set[int]:
    """The remote ports of ``pid``'s established TCP connections on loopback: which nodes it talks to."""
    sockets = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:  # closed meanwhile
            continue
        if target.startswith("socket:["):
            sockets.add(target[len("socket:["):-1])
    ports = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        remote, state, inode = fields[2], fields[3], fields[9]
        if inode in sockets and state == "01":  # ESTABLISHED
            ports.add(int(remote.split(":")[1], 16))
    return ports


class Auditor:
    """``python -m tests.faults.audit --serve`` in the shop's environment: one Django start-up for all the audits
    of a run, instead of one an audit (``settle`` polls twice a second, each poll a whole start-up before)."""

    def __init__(self, shop: Shop) -> None:
        self.shop = shop
        self.process: subprocess.Popen | None = None
        self._lock = threading.Lock()

    def audit(self, timeout: float = 120.0) -> dict:
        with self._lock:
            if self.process is None or self.process.poll() is not None:
                with open(self.shop.workdir / "audit.stderr", "ab") as errors:
                    self.process = subprocess.Popen(
                        [sys.executable, "-m", "tests.faults.audit", "--serve"], cwd=ROOT, env=self.shop.env,
                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=errors, text=True)
            self.process.stdin.write("audit\n")
            self.process.stdin.flush()
            ready, _, _ = select.select([self.process.stdout], [], [], timeout)
            line = self.process.stdout.readline() if ready else ""
            if not line:  # no answer in time, or the auditor died: what it said, as the failed run's stderr
                self.process.kill()
                self.close()
            assert line, (self.shop.workdir / "audit.stderr").read_text(errors="replace")[-3000:]
            answer = json.loads(line)
            assert "error" not in answer, answer.get("error")
            return answer

    def close(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        for stream in (process.stdin, process.stdout):  # end of input: it leaves its loop
            try:
                stream.close()
            except OSError:  # the pipe broke with the process
                pass
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass
class Result:
    scenario: str
    orders: int = 0
    faults: int = 0
    redelivered: int = 0
    duplicates_absorbed: int = 0
    dead_lettered: int = 0
    lost: int = 0
    double_charges: int = 0
    recovery_seconds: float = 0.0
    notes: dict = field(default_factory=dict)


RESULTS: list[Result] = []


class FaultRun:
    def __init__(self, shop: Shop, staff_token: str, staff_password: str = "") -> None:
        self.shop = shop
        self.staff_token = staff_token
        self.staff_password = staff_password
        self.accepted: list[str] = []
        self.refused: list[str] = []
        self.initial_stock: dict[int, int] = {}
        self._lock = threading.Lock()
        self.supervising = False
        self.restarts = 0
        self.notes: dict = {}  # what a fault saw, for the record
        self.reserve: list[Customer] = []  # ready to check out whenever a fault needs a message in flight
        self.auditor = Auditor(shop)

    # --- set-up -----------------------------------------------------------

    def product(self, stock: int, price: str = "10.00") -> int:
        sku = f"F-{uuid.uuid4().hex[:8]}"
        body = {"sku": sku, "name": f"Fault product {sku}", "price": price, "stock": stock}

        def created():
            response = self.shop.call("POST", "/api/catalog/products/", token=self.staff_token, json=body)
            return response.json()["id"] if response.status_code == 201 else None

        product_id = wait_for(created, what="the catalog to know the staff role")
        self.initial_stock[product_id] = stock
        return product_id

    def customers(self, count: int) -> list[Customer]:
        with ThreadPoolExecutor(8) as pool:
            return list(pool.map(lambda _: self._customer(), range(count)))

    def _customer(self) -> Customer:
        customer = self.shop.customer()
        customer.method = customer.card("4242424242424242")
        return customer

    def fill_carts(self, customers: list[Customer], product_ids: list[int], quantity: int = 1) -> None:
        """Customer ``i`` adds product ``i`` (round the list). The cart hears of a new product over the bus: the
        first customer of each product waits for that, alone, so the others' adds then go through at once
        (rather than eight threads polling the web, and taking the CPU from the consumers they wait on)."""
        pairs = [(c, product_ids[i % len(product_ids)]) for i, c in enumerate(customers)]
        first, rest = pairs[:len(product_ids)], pairs[len(product_ids):]
        for customer, product_id in first:
            customer.add_to_cart(product_id, quantity)
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda pair: pair[0].add_to_cart(pair[1], quantity), rest))

    def checkout_all(self, customers: list[Customer], workers: int = 8) -> None:
        def checkout(customer: Customer) -> None:
            response = customer.checkout(customer.method)
            with self._lock:
                if response.status_code == 202:
                    self.accepted.append(response.json()["order_id"])
                else:
                    self.refused.append(response.text)

        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(checkout, customers))

    def checkout_during(self, customers: list[Customer], fault_over: threading.Event,
                        seconds: float) -> threading.Thread:
        """Check out ``customers`` one by one, spread over ``seconds`` or until the fault is over (then at once)."""
        pace = seconds / max(1, len(customers))

        def load():
            for customer in customers:
                started = time.monotonic()
                self.checkout_all([customer], workers=1)
                slowest = max(self.notes.get("slowest checkout (s)", 0), round(time.monotonic() - started, 1))
                self.notes["slowest checkout (s)"] = slowest
                fault_over.wait(pace)

        thread = threading.Thread(target=load, daemon=True)
        thread.start()
        return thread

    # --- faults -----------------------------------------------------------

    def supervise(self) -> threading.Thread:
        """Restart any consumer that dies, as an orchestrator would."""
        self.supervising = True

        def loop():
            while self.supervising:
                for name, process in list(self.shop.processes.items()):
                    if process.poll() is not None:
                        self.shop.processes.pop(name)
                        self.shop.start(name)
                        self.restarts += 1
                time.sleep(0.2)

        thread = threading.Thread(target=loop, daemon=True)
        thread.start()
        return thread

    def kill_randomly(self, kills: int, within: float, seed: int = 7) -> int:
        rng = random.Random(seed)
        done = 0
        deadline = time.monotonic() + within
        while done < kills and time.monotonic() < deadline:
            time.sleep(rng.uniform(0, within / kills))
            name = rng.choice(CONSUMERS)
            process = self.shop.processes.get(name)
            if process is not None and process.poll() is None:
                process.kill()
                process.wait()
                done += 1
        return done

    # --- the end state ----------------------------------------------------

    def audit(self) -> dict:
        return self.auditor.audit()

    def close(self) -> None:
        """Stop the auditor (before the shop's databases are dropped)."""
        self.auditor.close()

    def queue_depths(self) -> dict[str, int]:
        names = Names(self.shop.env["BUS_PREFIX"])
        delays = [float(d) for d in self.shop.env["BUS_RETRY_DELAYS"].split(",")]
        connection = broker_connection(self.shop.env)
        depths = {}
        try:
            for service in CONSUMERS:
                queues = [names.queue(service), names.dead_letter_queue(service)]
                queues += [names.retry_queue(service, d) for d in delays]
                for queue in queues:
                    channel = connection.channel()
                    depths[queue] = channel.queue_declare(queue, passive=True).method.message_count
                    channel.close()
        finally:
            connection.close()
        return depths

    def settle(self, timeout: float = 120.0) -> dict:
        """Wait until every accepted checkout is an order in a final state, every confirmed one emailed (at least
        once: ``check`` says exactly once) and nothing is left to publish.

        The email comes last, from the notifications consumer, after order.confirmed left the orders outbox: a
        consumer that reconnects after a fault may still be on its way to it when the orders are all final.
        """

        last: list[dict] = [{}]

        def settled():
            audit = last[0] = self.audit()
            done = (audit["orders"] >= len(self.accepted) and audit["not_final"] == 0
                    and audit["confirmed_not_emailed_yet"] == 0 and sum(audit["unsent_outbox"].values()) == 0)
            return audit if done else None

        try:
            return wait_for(settled, timeout=timeout, interval=0.5, what="every order to settle")
        except AssertionError as exc:  # where it stood: stuck, or only slow
            audit = last[0]
            raise AssertionError(
                f"{exc}: {len(self.accepted)} accepted, {audit.get('orders')} orders, statuses {audit.get('statuses')}, "
                f"unsent {audit.get('unsent_outbox')}, not emailed {audit.get('confirmed_not_emailed_yet')}, "
                f"queues {self.queue_depths()}") from None

    def check(self, audit: dict, *, expected_dead: dict[str, int] | None = None) -> dict[str, int]:
        """The invariants every scenario must end with; the queue depths."""
        assert audit["not_final"] == 0, audit["statuses"]
        assert audit["orders"] == len(self.accepted), (len(self.accepted), self.refused[:3])
        assert audit["double_charges"] == 0
        assert audit["confirmed_without_one_charge"] == 0
        assert audit["net_paid_for_cancelled"] == "0"
        assert audit["confirmed_without_one_email"] == 0
        assert sum(audit["unsent_outbox"].values()) == 0, audit["unsent_outbox"]
        for product_id, initial in self.initial_stock.items():
            on_hand, reserved, sold = audit["products"][str(product_id)]
            assert reserved == 0 and on_hand + sold == initial, (product_id, on_hand, reserved, sold, initial)
        expected_dead = expected_dead or {}
        names = Names(self.shop.env["BUS_PREFIX"])

        def wanted(queue: str) -> int:
            return next((n for s, n in expected_dead.items() if queue == names.dead_letter_queue(s)), 0)

        # The databases can be settled while a restarted consumer is still
        # starting up, with deliveries requeued for it (duplicates, or work
        # the audit does not look at, such as the accounts summaries): the
        # queues get a short while to drain before they are judged.
        deadline = time.monotonic() + 30
        depths = self.queue_depths()
        while any(depth != wanted(queue) for queue, depth in depths.items()) and time.monotonic() < deadline:
            time.sleep(0.5)
            depths = self.queue_depths()
        for queue, depth in depths.items():
            assert depth == wanted(queue), f"{queue} holds {depth} message(s), expected {wanted(queue)}"
        return depths

    def console(self) -> requests.Session:
        """A browser session signed in to the staff console as the demo staff user."""
        session = requests.Session()
        login = self.shop.url("/admin/login/")
        session.get(login, timeout=10)
        response = session.post(login, timeout=10, data={
            "username": "staff@shop.test", "password": self.staff_password, "next": "/admin/",
            "csrfmiddlewaretoken": session.cookies["csrftoken"],
        }, headers={"Referer": login})
        assert response.status_code == 200 and "/admin/logout/" in response.text, response.text[:500]
        return session

    def ready_nodes(self) -> dict[str, str]:
        """``host:port`` of the node each consumer says (in its ready file) it consumes from, by file name."""
        ready_dir = Path(self.shop.env.get("BUS_READY_DIR", self.shop.workdir / "run"))
        nodes = {}
        for path in ready_dir.glob("*.ready"):
            try:
                nodes[path.stem] = path.read_text().split()[1]
            except (OSError, IndexError):  # being rewritten or removed as we read
                continue
        return nodes

    def counts(self) -> dict[str, int]:
        logs = self.shop.logs()
        return {
            "redelivered": len(re.findall(r" redelivered'", logs)),
            "duplicates_absorbed": len(re.findall(r"already handled", logs)),
            "dead_lettered": len(re.findall(r"dead-letter", logs)),
        }

    def record(self, scenario: str, audit: dict, *, faults: int, recovery: float, **notes) -> Result:
        counts = self.counts()
        result = Result(
            scenario=scenario, orders=audit["orders"], faults=faults,
            redelivered=counts["redelivered"], duplicates_absorbed=counts["duplicates_absorbed"],
            dead_lettered=counts["dead_lettered"], lost=len(self.accepted) - audit["orders"] + audit["not_final"],
            double_charges=audit["double_charges"], recovery_seconds=round(recovery, 1), notes=notes,
        )
        RESULTS.append(result)
        return result
