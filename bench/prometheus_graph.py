"""The picture of docs/operating.md: Prometheus graphing a small run of the shop.

    python -m bench.prometheus_graph [--seconds 90] [--rate 4] [--out docs/operating/prometheus-graph.png]

It starts the whole shop as real processes with their metrics on
(tests/prometheus.py), a Prometheus scraping them every second, sends
checkouts at a steady rate for a while, and photographs Prometheus's graph of
the messages each service handled per second with Debian's Chromium. Needs
RabbitMQ on 127.0.0.1:5672, Debian's ``prometheus`` and ``chromium``.
"""

from __future__ import annotations

import argparse
import time
import uuid
from pathlib import Path
from urllib.parse import urlencode

from playwright.sync_api import sync_playwright

from tests.e2e.shop import Shop
from tests.prometheus import Prometheus, scrape_jobs, up_with_metrics

from .common import ROOT, delete_shop_topology, remove_temp_dirs, run_prefix, temp_dir

EXPRESSION = "sum by (service) (rate(shop_messages_handled_total[1m]))"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]


def load(shop: Shop, seconds: float, rate: float) -> int:
    """Checkouts at ``rate`` a second for ``seconds``, by one customer buying one mug at a time; how many."""
    staff_password = "staff-" + uuid.uuid4().hex
    shop.manage("load_demo", "--password", staff_password, "--products", "1")
    token = shop.call("POST", "/api/accounts/token/", json={"email": "staff@shop.test", "password": staff_password})
    product = shop.call("POST", "/api/catalog/products/", token=token.json()["token"],
                        json={"sku": f"GRAPH-{uuid.uuid4().hex[:6]}", "name": "Graphed mug", "price": "4.00",
                              "stock": 100_000}).json()
    customer = shop.customer()
    method = customer.card("4242424242424242")
    placed, started = 0, time.monotonic()
    while time.monotonic() - started < seconds:
        customer.add_to_cart(product["id"], 1)
        if customer.checkout(method).status_code == 202:
            placed += 1
        time.sleep(max(0.0, started + placed / rate - time.monotonic()))
    return placed


def photograph(prometheus: Prometheus, out: Path, minutes: int) -> None:
    # Debian's Prometheus ships the classic web UI only.
    query = urlencode({"g0.expr": EXPRESSION, "g0.tab": "0", "g0.range_input": f"{minutes}m",
                       "g0.stacked": "0"})
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 820}, device_scale_factor=1)
        page.goto(f"{prometheus.url}/classic/graph?{query}")
        page.wait_for_selector(".graph_area svg path", timeout=20_000)
        page.wait_for_timeout(500)  # the legend is drawn after the lines
        out.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(out), full_page=True)
        browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=90.0)
    parser.add_argument("--rate", type=float, default=4.0, help="checkouts a second")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "operating" / "prometheus-graph.png")
    args = parser.parse_args()

    workdir = temp_dir("prometheus-graph")
    prefix = run_prefix("graph")
    shop = Shop(workdir, {"BUS_PREFIX": prefix, "BUS_DEPLOYMENT": prefix, "LOG_LEVEL": "WARNING"})
    try:
        ports = up_with_metrics(shop)
        with Prometheus(workdir, scrape_jobs(shop, ports)) as prometheus:
            placed = load(shop, args.seconds, args.rate)
            print(f"{placed} checkouts in {args.seconds:g} s; photographing the graph")
            time.sleep(3)  # the last scrapes
            photograph(prometheus, args.out, minutes=max(2, int(args.seconds // 60) + 1))
    finally:
        shop.down()
        delete_shop_topology(shop.env["BUS_PREFIX"], [float(d) for d in shop.env["BUS_RETRY_DELAYS"].split(",")])
    remove_temp_dirs()  # kept after a failure, to read the logs
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
