"""What a round trip saved by held rows is worth, measured apart from the machine's drift.

``python -m bench.held_rows`` writes, on a fresh PostgreSQL database, the rows a consumer writes when it
places an order and nobody reads before the commit (an order line, a timeline event, an outbox row) in
transactions of two kinds: each row its own ``INSERT`` as before the fourteenth round, and the rows held
and written as one statement (``statements.inserts_held``). The two kinds alternate in blocks, so a
machine whose speed drifts by the minute slows both alike; the median block of each is reported, with
this process's CPU, the server process's CPU (its connection's backend, read from /proc) and the wall
time, each per transaction, and the statements each transaction sent (BEGIN and COMMIT not counted).

It needs the PostgreSQL server on 127.0.0.1:5432 (user postgres, trust), which it must be able to read
/proc of (the same machine). It prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import uuid
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def measure(transactions: int, rounds: int) -> dict:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shopsite.settings_test")
    import django

    django.setup()
    from django.conf import settings

    from orders.models import Order, OrderEvent, OrderLine, OutboxMessage
    from tests.postgres import new_database

    # As the shop configures a PostgreSQL database (shopsite/settings.py): its backend, bound parameters,
    # prepared statements.
    options = {"server_side_binding": True}
    if settings.PREPARE_THRESHOLD is not None:
        options["prepare_threshold"] = settings.PREPARE_THRESHOLD
    with new_database("bench_held_rows", [Order, OrderLine, OrderEvent, OutboxMessage],
                      ENGINE="shopsite.db.postgresql", OPTIONS=options) as alias:
        return _measure(alias, transactions, rounds)


def _measure(alias: str, transactions: int, rounds: int) -> dict:
    from django.db import connections, transaction
    from django.utils import timezone

    from orders.models import Order, OrderEvent, OrderLine, OutboxMessage
    from shopsite.bus import statements

    connection = connections[alias]
    orders = []
    for _ in range(50):
        order = Order(id=uuid.uuid4(), checkout_id=uuid.uuid4(), user_id=7, total=Decimal("9.50"),
                      payment_method_id=uuid.uuid4(), shipping_name="Ann", shipping_line1="1 Main St",
                      shipping_city="Springfield", shipping_country="US")
        statements.create(alias, order)
        orders.append(order)

    def rows(order):
        line = OrderLine(order=order, product_id=1, sku="MUG", name="Mug", unit_price=Decimal("9.50"), quantity=1)
        event = OrderEvent(order_id=order.pk, kind=OrderEvent.Kind.PLACED, detail="1 item(s), total 9.50 USD")
        outbox = {"id": uuid.uuid4(), "type": "order.placed", "body": "x" * 400, "correlation_id": uuid.uuid4(),
                  "created_at": timezone.now(), "attempts": 0, "last_error": "", "traceparent": ""}
        return line, event, outbox

    def one_each(order) -> None:
        line, event, outbox = rows(order)
        with transaction.atomic(using=alias):
            statements.create(alias, line)
            statements.create(alias, event)
            statements.insert(OutboxMessage, alias, outbox)

    def held(order) -> None:
        line, event, outbox = rows(order)
        with transaction.atomic(using=alias), statements.inserts_held(alias):
            statements.create_later(alias, line)
            statements.create_later(alias, event)
            statements.insert_later(OutboxMessage, alias, outbox)

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    tick = os.sysconf("SC_CLK_TCK")

    def server_seconds() -> float:
        fields = Path(f"/proc/{backend}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / tick

    sent = []

    def count(execute, sql, params, many, context):
        sent.append(sql)
        return execute(sql, params, many, context)

    kinds = {"one statement a row": one_each, "held, one statement": held}
    blocks: dict[str, list[tuple[float, float, float]]] = {kind: [] for kind in kinds}
    statements_sent: dict[str, float] = {}
    for kind, write in kinds.items():  # warm up: statements built, prepared on the server
        with connection.execute_wrapper(count):
            sent.clear()
            for order in orders[:10]:
                write(order)
            statements_sent[kind] = len(sent) / 10
    for block in range(rounds):
        order_of = list(kinds.items()) if block % 2 == 0 else list(reversed(kinds.items()))
        for kind, write in order_of:
            cpu, wall, server = time.process_time(), time.perf_counter(), server_seconds()
            for n in range(transactions):
                write(orders[n % len(orders)])
            blocks[kind].append(((time.process_time() - cpu) / transactions * 1e6,
                                 (server_seconds() - server) / transactions * 1e6,
                                 (time.perf_counter() - wall) / transactions * 1e6))
    return {
        "transactions_a_block": transactions, "blocks": rounds,
        "kinds": {kind: {"statements_a_transaction": statements_sent[kind],
                         "client_cpu_us": statistics.median(b[0] for b in blocks[kind]),
                         "server_cpu_us": statistics.median(b[1] for b in blocks[kind]),
                         "wall_us": statistics.median(b[2] for b in blocks[kind])} for kind in kinds},
    }


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.held_rows", description=__doc__.splitlines()[0])
    parser.add_argument("--transactions", type=int, default=600, help="transactions in a block (default 600)")
    parser.add_argument("--rounds", type=int, default=10, help="blocks of each kind, alternating (default 10)")
    args = parser.parse_args(argv)
    print(json.dumps(measure(args.transactions, args.rounds)))


if __name__ == "__main__":
    main(sys.argv[1:])
