"""The web never waits on the broker: a checkout (or a sign-up) answers within a second while the shop's broker
is stopped, blocks its publishers, or accepts connections and never answers; the orders complete once it is back.

One shop on the session's one-node broker (never the broker on 5672) for the whole module; each scenario ends
with the shop healthy again and the fault harness's audit of every invariant.
"""

import sqlite3
import statistics
import time
import uuid
from datetime import datetime

import pytest

from shopsite.bus.names import Names
from tests.conftest import delete_topology
from tests.e2e.shop import Customer, Shop
from tests.loopback import StalledListener, wait_for

from .harness import FaultRun, broker_connection

#: What a web request that records a message may take, whatever the broker does.
BOUND = 1.0


@pytest.fixture(scope="module")
def run(lone_broker, tmp_path_factory):
    shop = Shop(tmp_path_factory.mktemp("web-never-waits"), {"BUS_URL": lone_broker.bus_url()})
    run = None
    try:
        shop.up()
        password = "staff-" + uuid.uuid4().hex
        shop.manage("load_demo", "--password", password, "--products", "0")
        token = shop.call("POST", "/api/accounts/token/",
                          json={"email": "staff@shop.test", "password": password}).json()["token"]
        run = FaultRun(shop, token, password)
        yield run
    finally:
        if run is not None:
            run.close()
        codes = shop.down()
        delays = [float(d) for d in shop.env["BUS_RETRY_DELAYS"].split(",")]
        delete_topology(Names(shop.env["BUS_PREFIX"]), delays, connection=broker_connection(shop.env))
    assert codes == {name: 0 for name in codes}, f"a process did not exit cleanly on SIGTERM: {codes}"


def ready_customers(run: FaultRun, count: int) -> list[Customer]:
    """Customers with a card and a full cart, made while the broker is healthy (the cart needs the catalog's news)."""
    product = run.product(stock=100, price="9.99")
    customers = run.customers(count)
    run.fill_carts(customers, [product])
    return customers


def timed_checkout(run: FaultRun, customer: Customer) -> float:
    started = time.monotonic()
    response = customer.checkout(customer.method)
    elapsed = time.monotonic() - started
    assert response.status_code == 202, response.text
    run.accepted.append(response.json()["order_id"])
    return elapsed


def timed_sign_up(run: FaultRun) -> float:
    body = {"email": f"s-{uuid.uuid4().hex[:10]}@example.com", "password": "a-long-test-password", "name": "Sam"}
    started = time.monotonic()
    response = run.shop.call("POST", "/api/accounts/register/", json=body)
    elapsed = time.monotonic() - started
    assert response.status_code == 201, response.text
    return elapsed


def cart_outbox(run: FaultRun, order_ids: list[str]) -> list[tuple[int, float]]:
    """(attempts, seconds from recorded to marked sent) of each order's cart.checked_out row."""
    with sqlite3.connect(f"file:{run.shop.workdir / 'db' / 'cart.sqlite3'}?mode=ro", uri=True) as db:
        rows = db.execute("SELECT body, attempts, created_at, sent_at FROM cart_outboxmessage "
                          "WHERE type = 'cart.checked_out'").fetchall()
    found = {}
    for body, attempts, created, sent in rows:
        order_id = next((o for o in order_ids if o in body), None)
        if order_id:
            waited = datetime.fromisoformat(sent) - datetime.fromisoformat(created)
            found[order_id] = (attempts, waited.total_seconds())
    assert sorted(found) == sorted(order_ids)
    return list(found.values())


def test_on_a_healthy_broker_the_web_publishes_each_checkout_once_right_after_its_commit(run):
    customers = ready_customers(run, 12)
    accepted = len(run.accepted)
    times = [timed_checkout(run, customer) for customer in customers]
    run.check(run.settle())

    published = cart_outbox(run, run.accepted[accepted:])
    print(f"\nhealthy: checkout answered in {statistics.median(times) * 1000:.0f} ms (median), "
          f"{max(times) * 1000:.0f} ms (slowest); cart.checked_out marked sent "
          f"{statistics.median(s for _, s in published) * 1000:.0f} ms after it was recorded (median)")
    assert max(times) < BOUND, times
    assert [attempts for attempts, _ in published] == [1] * len(published)  # nobody published one twice
    # By the web's background thread: the relay's sweep only takes rows 2 s old.
    assert statistics.median(s for _, s in published) < 1.0, published


def test_checkouts_answer_at_once_while_the_broker_is_stopped_and_complete_after(run, lone_broker):
    [node] = lone_broker.nodes
    customers = ready_customers(run, 3)

    node.stop_app()
    try:
        times = [timed_checkout(run, customer) for customer in customers]
    finally:
        node.start_app()
    back = time.monotonic()
    run.check(run.settle(timeout=120))

    print(f"\nbroker stopped: checkouts answered in {[round(t * 1000) for t in times]} ms; "
          f"all complete {time.monotonic() - back:.1f} s after it was back")
    assert max(times) < BOUND, times


def test_checkouts_and_sign_ups_answer_at_once_while_the_broker_blocks_publishers(run, lone_broker):
    [node] = lone_broker.nodes
    customers = ready_customers(run, 3)
    watermark = node.ctl("eval", "vm_memory_monitor:get_vm_memory_high_watermark().").stdout.strip()
    float(watermark)  # a fraction, which is what set_vm_memory_high_watermark takes back

    node.ctl("set_vm_memory_high_watermark", "0.0000001")  # the memory alarm: publishers get connection.blocked
    try:
        wait_for(lambda: "memory" in node.ctl("eval", "rabbit_alarm:get_alarms().").stdout, timeout=30,
                 what="the memory alarm")
        times = [timed_checkout(run, customer) for customer in customers]
        sign_ups = [timed_sign_up(run) for _ in range(2)]
    finally:
        node.ctl("set_vm_memory_high_watermark", watermark)
    back = time.monotonic()
    run.check(run.settle(timeout=120))

    print(f"\nbroker blocking publishers: checkouts answered in {[round(t * 1000) for t in times]} ms, "
          f"sign-ups in {[round(t * 1000) for t in sign_ups]} ms; all complete {time.monotonic() - back:.1f} s "
          "after the alarm cleared")
    assert max(times + sign_ups) < BOUND, (times, sign_ups)


def test_a_web_process_whose_broker_never_answers_answers_at_once_and_stops_at_once(run):
    """The web's BUS_URL is a port that accepts and never answers; the relay and the consumers still have the
    broker, so the relay carries the web's messages. SIGTERM then stops the web promptly: its background
    publisher, stuck in the handshake, does not hold the workers."""
    customers = ready_customers(run, 3)
    shop = run.shop
    with StalledListener() as stalled:
        shop.stop("web")
        shop.start("web", env={"BUS_URL": stalled.url()})
        try:
            wait_for(shop._web_answers, timeout=60, what="the web process")
            times = [timed_checkout(run, customer) for customer in customers]
            wait_for(lambda: stalled.accepted, what="the web's publisher to try the stalled broker")
            started = time.monotonic()
            code = shop.stop("web", timeout=60)
            stopping = time.monotonic() - started
        finally:
            if "web" in shop.processes:
                shop.stop("web", timeout=60)
            shop.start("web")
            wait_for(shop._web_answers, timeout=60, what="the web process")
    run.check(run.settle(timeout=120))

    print(f"\nbroker stalled: checkouts answered in {[round(t * 1000) for t in times]} ms; "
          f"SIGTERM stopped the web in {stopping:.1f} s")
    assert max(times) < BOUND, times
    assert code == 0
    assert stopping < 10, stopping
    assert [attempts for attempts, _ in cart_outbox(run, run.accepted[-3:])] == [1, 1, 1]  # by the relay, once
