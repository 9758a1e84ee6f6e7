"""One checkout is one trace through all six services, each process exporting its spans over OTLP/HTTP.

The shop runs as real processes (gunicorn, the relay, the six consumers)
with tracing turned on the standard way (OTEL_EXPORTER_OTLP_ENDPOINT); they
export with the real OTLP exporter to a collector stub in this test
(tests/otlp.py), which writes what it receives to a file.
"""

import sqlite3
import uuid
from contextlib import closing

import pytest

from shopsite.bus.names import Names
from tests.conftest import delete_topology
from tests.otlp import Collector

from .shop import CONSUMERS, Shop, wait_for

pytestmark = pytest.mark.e2e

STAFF_PASSWORD = "staff-" + uuid.uuid4().hex
VISA_OK = "4242424242424242"
#: The messages of a confirmed order, by the service that handles each.
HANDLED = {
    "orders": {"cart.checked_out", "stock.reserved", "payment.succeeded", "notification.sent"},
    "catalog": {"order.placed", "order.confirmed"},
    "cart": {"order.placed"},
    "payments": {"payment.requested"},
    "accounts": {"order.confirmed", "notification.sent"},
    "notifications": {"order.confirmed"},
}


@pytest.fixture(scope="module")
def traced_shop(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("traced-shop")
    with Collector(workdir / "spans.jsonl") as collector:
        shop = Shop(workdir, {"OTEL_EXPORTER_OTLP_ENDPOINT": collector.endpoint,
                              "OTEL_BSP_SCHEDULE_DELAY": "100"})  # ms: the spans arrive while the test waits
        try:
            shop.up()
            shop.manage("load_demo", "--password", STAFF_PASSWORD, "--products", "1")
            yield shop, collector
        finally:
            codes = shop.down()
            delete_topology(Names(shop.env["BUS_PREFIX"]), [float(d) for d in shop.env["BUS_RETRY_DELAYS"].split(",")])
        assert codes == {name: 0 for name in codes}, f"a process did not exit cleanly on SIGTERM: {codes}"


def place_order(shop) -> str:
    token = shop.call("POST", "/api/accounts/token/", json={"email": "staff@shop.test", "password": STAFF_PASSWORD})
    product = shop.call("POST", "/api/catalog/products/", token=token.json()["token"],
                        json={"sku": f"TR-{uuid.uuid4().hex[:8]}", "name": "Traced", "price": "9.50", "stock": 5})
    assert product.status_code == 201, product.text
    customer = shop.customer()
    customer.add_to_cart(product.json()["id"], 1)
    response = customer.checkout(customer.card(VISA_OK))
    assert response.status_code == 202, response.text
    order_id = response.json()["order_id"]
    assert customer.order_when(order_id, {"confirmed", "cancelled"})["status"] == "confirmed"
    return order_id


def recorded_under(shop) -> dict[str, tuple[str, str]]:
    """Every outbox row of the shop: message id -> (the service that recorded it, the span id it was recorded in)."""
    rows = {}
    for service in CONSUMERS:
        database = shop.workdir / "db" / f"{service}.sqlite3"
        with closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=10)) as connection:
            for message_id, traceparent in connection.execute(f"SELECT id, traceparent FROM {service}_outboxmessage"):
                rows[str(uuid.UUID(message_id))] = (service, traceparent.split("-")[2] if traceparent else None)
    return rows


def test_one_checkout_is_one_trace_through_all_six_services(traced_shop):
    shop, collector = traced_shop
    place_order(shop)

    def checkout_span():
        return next((s for s in collector.spans() if s["kind"] == "SERVER"
                     and s["attributes"].get("http.route") == "api/cart/checkout/"), None)

    checkout = wait_for(checkout_span, what="the checkout request's span")
    trace_id = checkout["trace_id"]

    def whole_trace():
        spans = [s for s in collector.spans() if s["trace_id"] == trace_id]
        handled = {(s["attributes"]["shop.service"], s["attributes"]["shop.message.type"])
                   for s in spans if s["kind"] == "CONSUMER"}
        wanted = {(service, kind) for service, kinds in HANDLED.items() for kind in kinds}
        return spans if wanted <= handled else None

    spans = wait_for(whole_trace, timeout=30, what=f"every service's spans in trace {trace_id}")

    assert {s["attributes"]["shop.service"] for s in spans} == set(CONSUMERS)
    assert checkout["service_name"] == "shop-web" and checkout["attributes"]["shop.service"] == "cart"
    assert checkout["attributes"]["http.response.status_code"] == 202
    by_id = {s["span_id"]: s for s in spans}
    rows = recorded_under(shop)
    consumed = [s for s in spans if s["kind"] == "CONSUMER"]
    for span in consumed:
        attributes = span["attributes"]
        service, message_id = attributes["shop.service"], attributes["messaging.message.id"]
        assert span["name"] == f"{attributes['shop.message.type']} process"
        assert span["service_name"] == f"shop-{service}"  # each consumer exported its own spans
        assert attributes["messaging.system"] == "rabbitmq"
        assert attributes["messaging.rabbitmq.destination.routing_key"] == attributes["shop.message.type"]
        # The parent is the span the message was recorded in, in the service that recorded it.
        producer, recorded_in = rows[message_id]
        assert span["parent_span_id"] == recorded_in, f"{span['name']} in {service}"
        assert by_id[recorded_in]["attributes"]["shop.service"] == producer

    placed = next(s for s in consumed if s["name"] == "cart.checked_out process")
    assert placed["parent_span_id"] == checkout["span_id"]  # the checkout recorded cart.checked_out
    assert placed["attributes"]["messaging.message.conversation_id"]
    # The request's queries are its children: the cart's tables, the payment step's.
    queries = [s for s in spans if s["kind"] == "CLIENT" and s["parent_span_id"] == checkout["span_id"]]
    assert {"cart", "payments"} <= {q["attributes"]["shop.service"] for q in queries}
    text = (shop.workdir / "spans.jsonl").read_text()
    assert VISA_OK not in text and VISA_OK[-12:] not in text  # no card number in any span
