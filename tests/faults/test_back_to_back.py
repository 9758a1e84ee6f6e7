"""Customers who check out again at once (issue 13), under load, with the real processes and an audit.

The cart empties at checkout, so a second checkout never waits for the first order to be placed (it used to
be refused with a 409 until ``order.placed`` came back, and the order then took out of the cart what had
been added since). Here 8 customers each place single-item orders back to back (12 each at FAULT_SCALE=1),
adding the next item as soon as the last checkout answered: not one request may be refused, every order must
be confirmed with exactly the one unit it was checked out with, and stock must add up.
"""

import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.e2e.shop import Customer

from .harness import FaultRun, scaled

pytestmark = pytest.mark.e2e

CUSTOMERS = 8
ORDERS_EACH = scaled(12, minimum=3)


def test_customers_checking_out_back_to_back(fault_run):
    run: FaultRun = fault_run()
    products = [run.product(stock=1000, price="3.50"), run.product(stock=1000, price="6.00")]
    customers = run.customers(CUSTOMERS)
    # The cart hears of new products over the bus: wait until it knows both, without filling a buyer's cart.
    probe = run.customers(1)[0]
    for product_id in products:
        probe.add_to_cart(product_id, 1)
    errors: list[str] = []
    latencies: list[float] = []
    lock = threading.Lock()

    def shop(index: int, customer: Customer) -> None:
        for n in range(ORDERS_EACH):
            product_id = products[(index + n) % len(products)]
            added = customer.call("POST", "/api/cart/items/", json={"product_id": product_id, "quantity": 1})
            started = time.monotonic()
            checkout = customer.checkout(customer.method)
            with lock:
                latencies.append(time.monotonic() - started)
                for response in (added, checkout):
                    if response.status_code >= 300:
                        errors.append(f"{response.request.method} {response.url}: {response.status_code} "
                                      f"{response.text[:200]}")
                if checkout.status_code == 202:
                    run.accepted.append(checkout.json()["order_id"])

    started = time.monotonic()
    with ThreadPoolExecutor(CUSTOMERS) as pool:
        list(pool.map(shop, range(CUSTOMERS), customers))
    sent = time.monotonic() - started

    audit = run.settle(timeout=180)
    settled = time.monotonic() - started
    assert errors == []
    run.check(audit)
    assert audit["statuses"] == {"confirmed": CUSTOMERS * ORDERS_EACH}
    assert audit["stock"]["sold"] == CUSTOMERS * ORDERS_EACH  # one unit an order: nothing ordered twice
    for customer in customers:
        assert customer.get("/api/cart/")["lines"] == []
        assert customer.get("/api/orders/")["count"] == ORDERS_EACH
    run.record(
        f"{CUSTOMERS} customers x {ORDERS_EACH} checkouts back to back", audit, faults=0,
        recovery=settled - sent, checkouts_sent_s=round(sent, 1), all_confirmed_s=round(settled, 1),
        checkout_median_ms=round(statistics.median(latencies) * 1000),
        checkout_max_ms=round(max(latencies) * 1000),
    )
    print(f"\n{CUSTOMERS * ORDERS_EACH} checkouts sent in {sent:.1f} s, all confirmed after {settled:.1f} s; "
          f"checkout median {statistics.median(latencies) * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms")
