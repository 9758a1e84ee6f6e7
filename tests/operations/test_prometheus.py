"""A real Prometheus scrapes a whole shop of real processes, and PromQL tells what happened.

The test writes Prometheus's configuration (the web's /metrics, the relay and
the six consumers on their METRICS_PORTs, RabbitMQ's rabbitmq_prometheus on
15692), places a few orders, and asks Prometheus's HTTP API for them. The
alert rules and the Grafana dashboard, when present (deploy/), are loaded and
each of their expressions evaluated against this live Prometheus.
"""

import os
import uuid

import pytest
import requests

from shopsite.bus.names import Names
from tests.e2e.shop import CONSUMERS, Shop
from tests.loopback import wait_for
from tests.prometheus import (ALERT_RULES, RABBITMQ_METRICS, Prometheus, alert_expressions, dashboard_expressions,
                              scrape_jobs, up_with_metrics)

pytestmark = pytest.mark.e2e

ORDERS = 6
VISA_OK = "4242424242424242"
STAFF_PASSWORD = "staff-" + uuid.uuid4().hex


def rabbitmq_metrics_answer() -> bool:
    try:
        return requests.get(f"http://{RABBITMQ_METRICS}/metrics", timeout=2).status_code == 200
    except requests.RequestException:
        return False


@pytest.fixture(scope="module")
def shop(tmp_path_factory):
    shop = Shop(tmp_path_factory.mktemp("metrics-shop"))
    try:
        shop.metrics_ports = up_with_metrics(shop)
        shop.manage("load_demo", "--password", STAFF_PASSWORD, "--products", "1")
        yield shop
    finally:
        codes = shop.down()
        from tests.conftest import delete_topology

        delete_topology(Names(shop.env["BUS_PREFIX"]), [float(d) for d in shop.env["BUS_RETRY_DELAYS"].split(",")])
        assert codes == {name: 0 for name in codes}, f"a process did not exit cleanly on SIGTERM: {codes}"


@pytest.fixture(scope="module")
def prometheus(shop, tmp_path_factory):
    # CI enables the broker's plugin (.ci/run); elsewhere a broker without it is left out of the scrape.
    rabbitmq = RABBITMQ_METRICS if os.environ.get("CI") or rabbitmq_metrics_answer() else None
    jobs = scrape_jobs(shop, shop.metrics_ports, rabbitmq=rabbitmq)
    rules = [ALERT_RULES] if ALERT_RULES.exists() else []
    with Prometheus(tmp_path_factory.mktemp("prometheus"), jobs, rule_files=rules) as prometheus:
        wait_for(lambda: set(prometheus.targets_up().values()) == {"up"}, timeout=15, interval=0.5,
                 what="every target scraped once")
        yield prometheus


def place_orders(shop: Shop, count: int) -> list[str]:
    token = shop.call("POST", "/api/accounts/token/", json={"email": "staff@shop.test", "password": STAFF_PASSWORD})
    assert token.status_code == 200, token.text
    product = shop.call("POST", "/api/catalog/products/", token=token.json()["token"],
                        json={"sku": f"PROM-{uuid.uuid4().hex[:8]}", "name": "Scraped mug", "price": "4.00",
                              "stock": 100})
    assert product.status_code == 201, product.text
    customer = shop.customer()
    method = customer.card(VISA_OK)
    orders = []
    for _ in range(count):
        customer.add_to_cart(product.json()["id"], 1)
        answer = customer.checkout(method)
        assert answer.status_code == 202, answer.text
        orders.append(answer.json()["order_id"])
    return orders


def test_prometheus_sees_every_order_confirmed_nothing_parked_and_every_process_up(shop, prometheus):
    orders = place_orders(shop, ORDERS)

    prometheus.wait_for_value('sum(shop_orders_finished_total{status="confirmed"})', ORDERS)
    prometheus.wait_for_value('sum(shop_checkouts_total{outcome="accepted"})', ORDERS)
    assert prometheus.value('sum(shop_orders_finished_total{status="cancelled"})') == 0
    # Each consumer shows its parked counters at 0 (present from its start), and nothing was parked.
    assert prometheus.value("count(count by (service) (shop_messages_parked_total))") == len(CONSUMERS)
    assert prometheus.value("sum(shop_messages_parked_total)") == 0

    up = prometheus.targets_up()
    assert len(up) == prometheus.targets and set(up.values()) == {"up"}, up
    assert prometheus.value("count(up == 1)") == prometheus.targets
    assert prometheus.value("sum(shop_consumer_connected)") == len(CONSUMERS)

    # The confirmations were counted; what the other services do after them (accounts and notifications take
    # order.confirmed), and the counts a process makes just after its commit, reach a later scrape: waited for.
    def every_service_handled():
        handled = {r["metric"]["service"]: float(r["value"][1])
                   for r in prometheus.query("sum by (service) (shop_messages_handled_total)")}
        return handled if set(handled) == set(CONSUMERS) and all(handled.values()) else None

    wait_for(every_service_handled, timeout=30, interval=0.5, what="every service's handled messages")
    prometheus.wait_for_value('sum(shop_messages_handled_total{service="orders",type="payment.succeeded"})', ORDERS)
    p99 = "histogram_quantile(0.99, sum by (le) (rate(shop_handler_duration_seconds_bucket[1m])))"
    assert 0 < wait_for(lambda: prometheus.value(p99), timeout=10, interval=0.5, what=p99) < 10

    def publishers():
        found = {r["metric"]["process"] for r in prometheus.query(
            "sum by (process) (shop_publish_confirm_seconds_count) > 0")}
        return found if {"web", "orders", "catalog", "payments"} <= found else None

    wait_for(publishers, timeout=30, interval=0.5, what="publish confirms from the web, orders, catalog, payments")

    # The relay reads every service's outbox at each scrape; everything was published.
    prometheus.wait_for_value("count(shop_outbox_unsent)", len(CONSUMERS))
    prometheus.wait_for_value("sum(shop_outbox_unsent)", 0)
    assert prometheus.value("max(shop_outbox_oldest_unsent_age_seconds)") == 0

    if prometheus.query('up{job="rabbitmq"}'):  # the broker's own metrics, per queue
        ready = f'rabbitmq_queue_messages_ready{{queue="{shop.env["BUS_PREFIX"]}.orders"}}'
        prometheus.wait_for_value(ready, 0)
    assert len(orders) == ORDERS


def test_every_expression_of_the_alert_rules_and_the_dashboard_evaluates(prometheus):
    """Each ``expr`` of deploy/prometheus/alerts.yaml and deploy/grafana/shop.json runs without error.

    Against this Prometheus, which scraped the shop of the test above; the rules
    file is loaded into it too, and every rule's last evaluation must have been healthy.
    """
    expressions = alert_expressions() + dashboard_expressions()
    for expr in expressions:
        prometheus.query(expr)  # raises PromQLError with Prometheus's reason
    if ALERT_RULES.exists():
        def evaluated():
            rules = [rule for group in prometheus.api("rules")["groups"] for rule in group["rules"]]
            return rules if all(rule.get("lastEvaluation", "").startswith("2") for rule in rules) else None

        rules = wait_for(evaluated, timeout=10, interval=0.5, what="every rule to be evaluated once")
        assert len(rules) == len(alert_expressions())
        assert [(rule["name"], rule.get("lastError")) for rule in rules if rule["health"] != "ok"] == []
    print(f"\n{len(expressions)} expressions of the alert rules and the dashboard evaluated")
