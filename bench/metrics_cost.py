"""What the metrics cost: end-to-end checkouts with them on, against the same shop without them.

    python -m bench.metrics_cost [--orders 500] [--rounds 3] [--scrape-interval 15s] [--baseline COMMIT]

"On" is this checkout with every process recording its metrics, the relay and
the consumers serving them on METRICS_PORT, the web under gunicorn's
multiprocess mode, and a Prometheus on the same machine scraping all of them
every ``--scrape-interval`` (Prometheus's default is 1 m, 15 s is common).
"Off" is the code of ``--baseline`` (by default the last commit before the
metrics), exported from git: no metric is recorded at all. Each round runs
both, each on a fresh shop, in turn (off then on, then on then off, so that a
machine growing busier or quieter favours neither), with the load and the
measurement of bench/end_to_end.py (a closed loop of 16 clients; orders a
second until every confirmation email is written). The medians are compared.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import statistics
import subprocess
import tarfile
import tempfile
from io import BytesIO
from pathlib import Path

from tests.e2e.shop import Shop
from tests.prometheus import Prometheus, scrape_jobs, up_with_metrics

from .common import ROOT, delete_shop_topology, remove_temp_dirs, run_json, run_prefix, temp_dir
from .end_to_end import PRODUCTS, RETRY_DELAYS, Load, _phase

BASELINE = "134b8fb"  # the integration branch before the metrics


def baseline_tree(commit: str) -> Path:
    """The code of ``commit``, exported to a folder (not a worktree)."""
    folder = Path(tempfile.mkdtemp(prefix="shop-bench-baseline-"))
    archive = subprocess.run(["git", "archive", commit], cwd=ROOT, capture_output=True, check=True).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(folder, filter="data")
    # The Shop of this checkout starts gunicorn with the config the metrics brought; an empty one stands in.
    (folder / "shopsite" / "gunicorn_config.py").write_text("")
    return folder


def measure(orders: int, *, metrics: bool, root: Path, interval: str) -> dict:
    prefix = run_prefix("metrics")
    env = {"BUS_PREFIX": prefix, "BUS_DEPLOYMENT": prefix, "LOG_LEVEL": "WARNING",
           "BUS_RETRY_DELAYS": ",".join(str(d) for d in RETRY_DELAYS)}
    workdir = temp_dir("metrics-cost")
    shop = Shop(workdir, env, root=root)
    try:
        if metrics:
            ports = up_with_metrics(shop)
        else:
            shop.up()
        seeded = run_json("bench.seed", shop.env, str(orders), str(PRODUCTS), timeout=600)
        load = Load(shop, seeded["customers"])
        scraped = Prometheus(workdir, scrape_jobs(shop, ports, rabbitmq=None), interval=interval) if metrics else None
        with scraped or contextlib.nullcontext():
            result = _phase(shop, load, lambda: load.closed_loop(orders), expected=orders,
                            timeout=max(60, orders / 5))
    finally:
        shop.down()
        delete_shop_topology(prefix, RETRY_DELAYS)
    return {key: result[key] for key in ("orders", "accepted", "emailed", "seconds", "per_second",
                                          "latency_ms")}


def run_rounds(args, baseline: Path) -> dict[str, list[dict]]:
    runs: dict[str, list[dict]] = {"off": [], "on": []}
    for round_ in range(args.rounds):
        for mode in ("off", "on") if round_ % 2 == 0 else ("on", "off"):
            result = measure(args.orders, metrics=mode == "on", root=ROOT if mode == "on" else baseline,
                             interval=args.scrape_interval)
            runs[mode].append(result)
            print(f"round {round_ + 1}, metrics {mode}: {result['per_second']:.1f} orders/s "
                  f"({result['emailed']}/{result['orders']} emailed, p50 {result['latency_ms']['50']:.0f} ms)",
                  flush=True)
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--scrape-interval", default="15s")
    parser.add_argument("--baseline", default=BASELINE)
    args = parser.parse_args()

    baseline = baseline_tree(args.baseline)
    try:
        runs = run_rounds(args, baseline)
    finally:
        shutil.rmtree(baseline, ignore_errors=True)
    off = statistics.median(r["per_second"] for r in runs["off"])
    on = statistics.median(r["per_second"] for r in runs["on"])
    print(json.dumps({"orders": args.orders, "rounds": args.rounds, "baseline": args.baseline,
                      "scrape_interval": args.scrape_interval,
                      "off_per_second": [round(r["per_second"], 1) for r in runs["off"]],
                      "on_per_second": [round(r["per_second"], 1) for r in runs["on"]],
                      "median_off": round(off, 1), "median_on": round(on, 1),
                      "cost_percent": round((off - on) / off * 100, 1)}))
    remove_temp_dirs()  # kept after a failure, to read the logs


if __name__ == "__main__":
    main()
