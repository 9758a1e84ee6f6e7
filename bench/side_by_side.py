"""Checkout latency of two (or more) versions of the shop, side by side under the same machine load.

    python -m bench.side_by_side --rounds 50 before=/tmp/shop-main after=.

Each version is a folder holding a checkout of the shop (``git archive main | tar -x -C /tmp/shop-main``);
each runs as a whole shop of real processes (tests/e2e/shop.py) on the broker on 5672, with its own prefix and
SQLite files. Each round makes one checkout on each shop in turn (alternating the order) and pauses, so every
checkout meets a quiet shop and the versions share whatever else the machine is doing: on a busy 2-core
machine, runs made one after the other differ by more than the versions do. Reported per version: the checkout's
answer, the time from its commit to the confirm of cart.checked_out (``sent_at - created_at`` of the cart's
outbox row) and from sending the checkout to the orders service recording order.placed (read from the databases
afterwards, so measuring adds nothing to the flow).
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import tempfile
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

from tests.e2e.shop import Shop
from tests.faults.harness import FaultRun

from .common import delete_shop_topology


def rows(database: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
        return db.execute(sql).fetchall()


def stamp(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc).timestamp()


def summary(values: list[float]) -> dict:
    ordered = sorted(values)
    return {"median": round(statistics.median(ordered), 1), "p90": round(ordered[int(0.9 * (len(ordered) - 1))], 1)}


def measure(shop: Shop, sent: dict[str, float], answered: dict[str, float]) -> dict:
    db = shop.workdir / "db"
    placed = {}
    for body, created in rows(db / "orders.sqlite3",
                              "SELECT body, created_at FROM orders_outboxmessage WHERE type = 'order.placed'"):
        order_id = json.loads(body)["payload"]["order_id"]
        if order_id in sent:
            placed[order_id] = stamp(created)
    confirmed = [(stamp(s) - stamp(c)) * 1000 for body, c, s in rows(
        db / "cart.sqlite3", "SELECT body, created_at, sent_at FROM cart_outboxmessage WHERE type = 'cart.checked_out'")
        if json.loads(body)["payload"]["order_id"] in sent and s]
    return {
        "checkouts": len(sent), "placed": len(placed),
        "answer_ms": summary([(answered[o] - sent[o]) * 1000 for o in sent]),
        "commit_to_confirm_ms": summary(confirmed),
        "checkout_to_order_placed_ms": summary([(placed[o] - sent[o]) * 1000 for o in placed]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--pause", type=float, default=0.3, help="seconds between two checkouts")
    parser.add_argument("versions", nargs="+", metavar="LABEL=FOLDER")
    args = parser.parse_args()
    os.environ.setdefault("BUS_DEPLOYMENT", f"bench-{uuid.uuid4().hex[:8]}")
    versions = {label: Path(folder).resolve() for label, folder in (v.split("=", 1) for v in args.versions)}

    shops: dict[str, Shop] = {}
    try:
        customers = {}
        for label, root in versions.items():
            shop = shops[label] = Shop(Path(tempfile.mkdtemp(prefix=f"side-by-side-{label}-")), root=root).up()
            password = "staff-" + uuid.uuid4().hex
            shop.manage("load_demo", "--password", password, "--products", "0")
            token = shop.call("POST", "/api/accounts/token/",
                              json={"email": "staff@shop.test", "password": password}).json()["token"]
            run = FaultRun(shop, token, password)
            product = run.product(stock=args.rounds * 2, price="9.99")
            customers[label] = run.customers(args.rounds)
            run.fill_carts(customers[label], [product])
        time.sleep(5)  # the set-up's messages settle

        sent = {label: {} for label in shops}
        answered = {label: {} for label in shops}
        for n in range(args.rounds):
            for label in list(shops) if n % 2 == 0 else list(reversed(shops)):
                customer = customers[label][n]
                started = time.time()
                response = customer.checkout(customer.method)
                assert response.status_code == 202, response.text
                order_id = response.json()["order_id"]
                sent[label][order_id], answered[label][order_id] = started, time.time()
                time.sleep(args.pause)
        time.sleep(5)  # the last orders are placed
        for label, shop in shops.items():
            print(json.dumps({"version": label, **measure(shop, sent[label], answered[label])}))
    finally:
        for shop in shops.values():
            shop.down()
            delete_shop_topology(shop.env["BUS_PREFIX"], [float(d) for d in shop.env["BUS_RETRY_DELAYS"].split(",")])


if __name__ == "__main__":
    main()
