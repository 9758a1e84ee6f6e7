"""LOG_FORMAT=json with the real processes: every line of every process is a JSON object, and the lines of a
handled message name its service, its flow and its type.

A shop of its own (the session's writes key=value lines), stopped inside the test: the lines a process writes
as it stops are lines of its log too.
"""

import json
import uuid

import pytest

from shopsite.bus.names import Names
from tests.conftest import delete_topology
from tests.loopback import wait_for

from .shop import CONSUMERS, Shop

pytestmark = pytest.mark.e2e

CARD = "4242424242424242"
PASSWORD = "a-long-test-password"
STAFF_PASSWORD = "staff-" + uuid.uuid4().hex


@pytest.fixture
def json_shop(tmp_path):
    shop = Shop(tmp_path, extra_env={"LOG_FORMAT": "json"})
    try:
        yield shop.up()
    finally:
        shop.down()  # no-op once the test stopped it
        delete_topology(Names(shop.env["BUS_PREFIX"]), [float(d) for d in shop.env["BUS_RETRY_DELAYS"].split(",")])


def checkout(shop: Shop) -> tuple[str, str, str]:
    """One paid order, from a new product to the customer's confirmation email; (order id, checkout id, token)."""
    shop.manage("load_demo", "--password", STAFF_PASSWORD, "--products", "1")
    staff = shop.call("POST", "/api/accounts/token/", json={"email": "staff@shop.test", "password": STAFF_PASSWORD})
    product = shop.call("POST", "/api/catalog/products/", token=staff.json()["token"],
                        json={"sku": f"E2E-{uuid.uuid4().hex[:8]}", "name": "Lamp", "price": "12.50", "stock": 3})
    assert product.status_code == 201, product.text
    customer = shop.customer(PASSWORD)
    customer.add_to_cart(product.json()["id"], 1)
    response = customer.checkout(customer.card(CARD))
    assert response.status_code == 202, response.text
    order_id = response.json()["order_id"]
    customer.order_when(order_id, {"confirmed"})
    wait_for(lambda: "sent order_confirmed email" in shop.log("notifications"), what="the confirmation email")
    return order_id, response.json()["checkout_id"], customer.token


def test_every_line_of_every_process_is_json_and_a_flow_can_be_followed(json_shop):
    order_id, checkout_id, token = checkout(json_shop)
    codes = json_shop.down()
    assert codes == {name: 0 for name in codes}, codes

    lines = {}
    for name in ["web", "relay", *CONSUMERS]:
        text = json_shop.log(name)
        lines[name] = [json.loads(line) for line in text.splitlines()]  # a line that is not JSON fails here
        assert lines[name], f"{name} wrote nothing"
        for line in lines[name]:
            assert isinstance(line, dict), line
            assert {"timestamp", "level", "logger", "message", "service", "process"} <= line.keys(), line
            assert line["service"] == name, line
        for secret in (CARD, token, PASSWORD):
            assert secret not in text, f"a secret in the log of {name}"

    flow = [line for name in ("orders", "payments", "notifications") for line in lines[name]
            if order_id in line["message"]]
    assert all(line["correlation_id"] == checkout_id for line in flow), flow
    assert all(line.get("message_type") and line.get("message_id") for line in flow), flow
    [charged] = [line for line in flow if line["message"].startswith("charged order")]
    assert (charged["service"], charged["message_type"]) == ("payments", "payment.requested")
    [emailed] = [line for line in flow if line["message"].startswith("sent order_confirmed email")]
    assert (emailed["service"], emailed["message_type"]) == ("notifications", "order.confirmed")

    [access] = [line["http"] for line in lines["web"]
                if line["logger"] == "gunicorn.access" and line["http"]["path"] == "/api/cart/checkout/"]
    assert (access["method"], access["status"]) == ("POST", 202)
    assert any(line["message"].startswith("orders consumer stopped after") for line in lines["orders"])
