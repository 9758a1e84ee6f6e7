"""Rolling deploys with the real processes (docs/messages.md): services upgraded one at a time while messages
of the old and the new code are in flight.

Another release runs in one process through a start-up module of ``tests/rolling`` (``Shop.start(...,
startup=...)``); every other process runs this checkout. Each test ends with every order confirmed, nothing
parked, nothing handled twice: the fault harness's audit (one charge and one confirmation email an order,
every queue and dead-letter queue empty) and the inboxes (each message once per handler).
"""

import json
import sqlite3
import subprocess
import sys
from collections import Counter

import pytest

from shopsite.bus.names import Names
from tests.e2e.shop import CONSUMERS, ROOT, Customer
from tests.loopback import wait_for

from .harness import FaultRun

pytestmark = pytest.mark.e2e

ORDERS_A_PHASE = 3


def read(run: FaultRun, service: str, sql: str) -> list[tuple]:
    with sqlite3.connect(f"file:{run.shop.workdir / 'db' / f'{service}.sqlite3'}?mode=ro", uri=True) as db:
        return db.execute(sql).fetchall()


def checkouts_sent(run: FaultRun) -> dict[str, dict]:
    """Each cart.checked_out the cart sent, by message id: its envelope."""
    rows = read(run, "cart", "SELECT id, body FROM cart_outboxmessage WHERE type = 'cart.checked_out'")
    return {message_id.replace("-", ""): json.loads(body) for message_id, body in rows}


def assert_each_message_handled_once(run: FaultRun) -> None:
    """Once per (message, handler) in every inbox, and every checkout the cart sent placed by orders' handler."""
    for service in CONSUMERS:
        rows = read(run, service, f"SELECT message_id, handler FROM {service}_inboxmessage")
        twice = [key for key, count in Counter(rows).items() if count > 1]
        assert twice == [], f"{service} handled these more than once: {twice}"
    placed = read(run, "orders", "SELECT message_id FROM orders_inboxmessage WHERE type = 'cart.checked_out'")
    assert sorted(str(m).replace("-", "") for (m,) in placed) == sorted(checkouts_sent(run))


def ready_customers(run: FaultRun, count: int) -> list[Customer]:
    product = run.product(stock=100, price="7.25")
    customers = run.customers(count)
    run.fill_carts(customers, [product])
    return customers


def restart(run: FaultRun, name: str, **how) -> None:
    run.shop.stop(name)
    run.shop.start(name, **how)
    if name == "web":
        run.shop.wait_for_web()


def settled(run: FaultRun) -> dict:
    audit = run.settle(timeout=60)
    run.check(audit)  # nothing parked: every queue, retry and dead-letter queue is empty
    assert audit["statuses"] == {"confirmed": len(run.accepted)}
    return audit


def test_a_producer_sends_a_field_the_running_consumers_do_not_know(fault_run):
    """(a) An additive change: the cart of a newer release adds a gift note to cart.checked_out and a weight to
    each line, while orders (and every other consumer) still runs this release."""
    run = fault_run()
    customers = ready_customers(run, ORDERS_A_PHASE)
    restart(run, "web", startup="newer_cart")

    run.checkout_all(customers)
    settled(run)

    sent = list(checkouts_sent(run).values())
    assert len(sent) == ORDERS_A_PHASE
    for envelope in sent:  # the newer shape is what went on the bus, as the same version
        assert envelope["version"] == 2 and envelope["payload"]["gift_note"] == "Happy birthday!"
        assert [line["weight_grams"] for line in envelope["payload"]["lines"]] == [250]
    assert_each_message_handled_once(run)


def test_a_breaking_change_rolls_out_with_messages_of_the_old_version_still_queued(fault_run):
    """(b) cart.checked_out v1 -> v2, in the documented order. Before: orders reads version 1 only (the release
    before v2) and the web is pinned to version 1. Step 1: orders is upgraded while version-1 messages wait in
    its queue; it reads them through the upcaster. Step 2: the web is unpinned and sends version 2."""
    run = fault_run()
    customers = ready_customers(run, 3 * ORDERS_A_PHASE)
    phases = [customers[i:i + ORDERS_A_PHASE] for i in range(0, len(customers), ORDERS_A_PHASE)]
    restart(run, "orders", startup="before_v2")
    restart(run, "web", env={"BUS_SEND_VERSIONS": "cart.checked_out=1"})

    # Before the rollout: the pinned web and the old orders consumer agree on version 1.
    run.checkout_all(phases[0])
    settled(run)

    # Orders goes down for its upgrade; checkouts go on, and their version-1 messages wait in its queue.
    run.shop.stop("orders")
    run.checkout_all(phases[1])
    queue = Names(run.shop.env["BUS_PREFIX"]).queue("orders")
    wait_for(lambda: run.queue_depths()[queue] == ORDERS_A_PHASE, timeout=30, what="the checkouts to queue up")

    # Step 1: the upgraded orders consumer (this release) takes them, through the upcaster.
    run.shop.start("orders")
    settled(run)

    # Step 2: the web is unpinned and sends version 2.
    restart(run, "web")
    run.checkout_all(phases[2])
    settled(run)

    versions = [envelope["version"] for envelope in sorted(checkouts_sent(run).values(),
                                                            key=lambda e: e["occurred_at"])]
    assert versions == [1] * (2 * ORDERS_A_PHASE) + [2] * ORDERS_A_PHASE
    # A version-1 checkout carried its address as text: its order keeps it so; a version-2 one by field.
    addresses = read(run, "orders", "SELECT shipping_text, shipping_country FROM orders_order ORDER BY created_at")
    assert [bool(text) for text, _ in addresses] == [True] * (2 * ORDERS_A_PHASE) + [False] * ORDERS_A_PHASE
    assert [country for _, country in addresses[-ORDERS_A_PHASE:]] == ["DE"] * ORDERS_A_PHASE
    assert_each_message_handled_once(run)


#: Run by a process that imported the start-up module: what it makes of three checkouts.
OLD_READER = """
import json, sys, uuid
import tests.rolling.before_v2
from shopsite.bus.envelope import Envelope, InvalidMessage

line = {"product_id": 1, "sku": "MUG", "name": "Mug", "unit_price": "9.50", "quantity": 1}
def checkout(version, address, **more):
    payload = {"checkout_id": str(uuid.uuid4()), "order_id": str(uuid.uuid4()), "user_id": 7, "lines": [line],
               "total": "9.50", "shipping_address": address, "payment_method_id": str(uuid.uuid4()), **more}
    return Envelope(type="cart.checked_out", version=version, producer="cart", payload=payload,
                    correlation_id=uuid.uuid4())
address = {"name": "C", "line1": "1 Main St", "city": "Berlin", "postal_code": "10115", "country": "DE"}
for envelope in [checkout(1, "C\\n1 Main St"), checkout(2, address), checkout(1, "C", gift_note="hi")]:
    try:
        print(json.dumps(type(envelope.message().shipping_address).__name__))
    except InvalidMessage as exc:
        print(json.dumps(str(exc)))
"""


def test_the_release_before_v2_reads_version_1_only_and_strictly():
    """The stand-in for the old orders consumer refuses what that release refused, or (b) would prove nothing."""
    result = subprocess.run([sys.executable, "-c", OLD_READER], cwd=ROOT, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr

    v1, v2, v1_with_more = map(json.loads, result.stdout.splitlines())
    assert v1 == "LegacyAddress"  # accepted, and handled as today's handler does
    assert v2 == "cart.checked_out version 2 is not supported (expected 1)"
    assert "payload does not match cart.checked_out v1" in v1_with_more and "gift_note" in v1_with_more
