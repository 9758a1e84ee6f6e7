"""The ceiling: the saga's writes for each order in one process, one step after the other, no messages at all.

It starts where the end-to-end benchmark starts: fresh databases, customers
each with a product in the cart and a saved card, made by ``bench/seed.py``
while the shop's relay and consumers run (``seeded_shop``; they are stopped
again before anything is timed). Then one process calls, for each customer,
the cart checkout and every later step of ``bench.saga_writes`` in turn: the
same rows in the same six databases as an end-to-end order, thirteen
transactions, and nothing else (no HTTP, no broker, no outbox or inbox).
Whatever a shop costs above this is the price of its messages and processes.

``python -m bench.ceiling --orders 200`` prints the JSON report; in a shop's
environment, ``python -m bench.ceiling run <customers.json>`` is the timed
part and ``python -m bench.ceiling audit`` counts what every database holds.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import django
import pika

from shopsite.bus.names import Names

from tests.e2e.shop import Shop
from tests.loopback import wait_for

from .common import (connect, delete_shop_topology, migrated_data_dir, remove_temp_dirs, run_json, run_prefix,
                     temp_dir)
from .end_to_end import BENCH_ADDRESS, PRODUCTS, RETRY_DELAYS, SHOP_ENV

#: The consumers that hear something while bench/seed.py runs: the catalog (user.registered, for its copy of
#: users' roles), the cart (the products) and notifications (the addresses). The others are sent nothing then,
#: so the state is the same as run_shop's with all six running, for less start-up on a busy machine.
SEEDING_CONSUMERS = ["catalog", "cart", "notifications"]


def consumer_count(queue: str) -> int:
    """How many consumers ``queue`` has; 0 if it does not exist yet."""
    connection = connect()
    try:
        return connection.channel().queue_declare(queue, passive=True).method.consumer_count
    except pika.exceptions.ChannelClosedByBroker:  # 404: no such queue (yet)
        return 0
    finally:
        if connection.is_open:
            connection.close()


def wait_until(condition, what: str, timeout: float, processes: dict[str, subprocess.Popen]) -> None:
    """``tests.loopback.wait_for``, failing at once if one of ``processes`` exited meanwhile."""

    def holds() -> bool:
        dead = {name: process.returncode for name, process in processes.items() if process.poll() is not None}
        if dead:
            raise RuntimeError(f"exited while waiting for {what}: {dead}")
        return condition()

    wait_for(holds, timeout=timeout, interval=0.25, what=what)


def seeded_shop(kind: str, customers: int, databases: dict[str, str] | None = None) -> tuple[Shop, list[dict]]:
    """A shop's fresh SQLite databases with ``customers`` ready to check out; none of its processes left running.

    With ``databases`` (``<SERVICE>_DATABASE_URL`` settings, e.g. from ``tests.e2e.shop.PostgresDatabases``),
    the shop uses those databases instead, migrated here.

    Seeding needs the bus (the cart's product replica and the mail recipients
    arrive by message), so the relay and the consumers that take part run
    while ``bench.seed`` does, under a prefix of their own, deleted afterwards.
    Each consumer declares its queue as it starts; seeding waits for them, as
    a message published before its queue is bound would be lost.
    """
    prefix = run_prefix(kind)
    shop = Shop(temp_dir(kind) if databases else migrated_data_dir(kind),
                {**SHOP_ENV, "BUS_PREFIX": prefix, "BUS_DEPLOYMENT": prefix, **(databases or {})})
    names = Names(prefix)
    if databases:
        shop.manage("migrate_all")
    try:
        for name in ["relay", *SEEDING_CONSUMERS]:
            shop.start(name)
        wait_until(lambda: all(consumer_count(names.queue(service)) for service in SEEDING_CONSUMERS),
                   "the consumers' queues", 120, shop.processes)
        seeded = run_json("bench.seed", shop.env, str(customers), str(PRODUCTS), timeout=600)
    finally:
        try:
            shop.down()
        finally:
            delete_shop_topology(prefix, RETRY_DELAYS)
    return shop, seeded["customers"]


def run_ceiling(orders: int) -> dict:
    """Orders per second and CPU per order of the saga's writes in one process (SQLite)."""
    shop, customers = seeded_shop("ceiling", orders)
    customers_file = shop.workdir / "customers.json"
    customers_file.write_text(json.dumps(customers))
    return run_json("bench.ceiling", shop.env, "run", str(customers_file), timeout=600)


# --- in the shop's environment ---------------------------------------------------


def _writes(customers: list[dict]) -> dict:
    """Every customer's order, step by step; the wall and CPU time of it all, and each step's mean."""
    from . import saga_writes

    steps = [("checkout_create", None), *((function.__name__, function) for _, function in saga_writes.STEPS)]
    spent = dict.fromkeys((name for name, _ in steps), 0.0)
    cpu_before, started = os.times(), time.perf_counter()
    for customer in customers:
        clock = time.perf_counter()
        order, _ = saga_writes.checkout_create(user_id=customer["user_id"], idempotency_key=uuid.uuid4().hex,
                                               payment_method_id=customer["method"], shipping_address=BENCH_ADDRESS)
        spent["checkout_create"] += time.perf_counter() - clock
        for name, function in steps[1:]:
            clock = time.perf_counter()
            order = function(order)
            spent[name] += time.perf_counter() - clock
    seconds = time.perf_counter() - started
    cpu_after = os.times()
    cpu = (cpu_after.user + cpu_after.system) - (cpu_before.user + cpu_before.system)
    count = len(customers)
    return {"orders": count, "seconds": seconds, "per_second": count / seconds if seconds else 0.0,
            "cpu_ms_per_order": cpu * 1000 / count if count else 0.0, "transactions_per_order": len(steps),
            "step_ms": {name: total * 1000 / count for name, total in spent.items()} if count else {}}


def audit() -> dict:
    """What every database holds after a run (a measuring tool may read every service's tables)."""
    from accounts.models import CustomerOrder, InboxItem
    from cart.models import CartLine, Checkout, ProductReplica
    from catalog.models import Product, Reservation
    from notifications.models import Notification
    from orders.models import Order, OrderEvent
    from payments.models import Charge
    from notifications import models as notifications
    from orders import models as orders
    from payments import models as payments

    counts = {
        "orders": Order.objects.count(),
        "orders_confirmed": Order.objects.filter(status=Order.Status.CONFIRMED).count(),
        "order_events": OrderEvent.objects.count(),
        "charges_succeeded": Charge.objects.filter(status=Charge.Status.SUCCEEDED).count(),
        "reservations_committed": Reservation.objects.filter(status=Reservation.Status.COMMITTED).count(),
        "units_sold": sum(Product.objects.values_list("stock_sold", flat=True)),
        "units_reserved": sum(Product.objects.values_list("stock_reserved", flat=True)),
        "notifications_sent": Notification.objects.filter(kind=Notification.Kind.ORDER_CONFIRMED,
                                                          status=Notification.Status.SENT).count(),
        "summaries_confirmed": CustomerOrder.objects.filter(status=CustomerOrder.Status.CONFIRMED).count(),
        "inbox_items": InboxItem.objects.count(),
        "checkouts": Checkout.objects.count(),
        "checkouts_placed": Checkout.objects.filter(placed_at__isnull=False).count(),
        "cart_lines": CartLine.objects.count(),
        # The cart's copy of availability agrees with the catalog's once every order's last step ran.
        "replicas_current": sum(ProductReplica.objects.filter(pk=pk, available=on_hand).exists()
                                for pk, on_hand in Product.objects.values_list("pk", "stock_on_hand")),
    }
    # The bus's tables of the services that only the saga writes to (seeding sends them nothing).
    for service, models in (("orders", orders), ("payments", payments), ("notifications", notifications)):
        counts[f"{service}_outbox"] = models.OutboxMessage.objects.count()
        counts[f"{service}_inbox"] = models.InboxMessage.objects.count()
    return counts


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.ceiling", description=__doc__.split("\n\n")[0])
    parser.add_argument("command", nargs="?", choices=["measure", "run", "audit"], default="measure")
    parser.add_argument("customers_file", nargs="?", help="run: the customers bench.seed made (JSON)")
    parser.add_argument("--orders", type=int, default=200, help="measure: how many orders (default 200)")
    args = parser.parse_args(argv)
    if args.command == "measure":
        print(json.dumps(run_ceiling(args.orders)))
        remove_temp_dirs()  # kept after a failure, to read the logs
        return
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shopsite.settings")
    django.setup()
    if args.command == "run":
        result = _writes(json.loads(Path(args.customers_file).read_text()))
        print(json.dumps({**result, "audit": audit()}))
    else:
        print(json.dumps(audit()))


if __name__ == "__main__":
    main(sys.argv[1:])
