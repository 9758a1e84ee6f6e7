"""Cost as the data grows (issue 16, point 5): the end-to-end run on a small and on a long history.

``python -m bench.growth`` measures closed-loop throughput of ``--checkouts``
orders on shops that already hold each ``--orders`` history (with ``--products``
products and ``--customers`` customers), on each ``--database``, then the
latency of checkouts arriving at ``--rate`` a second for ``--seconds`` on the
same shop, and writes the results as JSON (bench/grow_plot.py draws them).
``python -m bench`` runs the same measurement as its part "growth" (``run_all``),
at the sizes of its run.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

from .common import ROOT, Sizes, remove_temp_dirs, retrying
from .end_to_end import run_shop
from .grow import Existing


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def measure(*, orders: int, database: str, checkouts: int, products: int, customers: int, rate: float,
            seconds: float, step=_stderr) -> dict:
    """One shop with ``orders`` of history: ``checkouts`` in a closed loop, then ``rate``/s for ``seconds``.

    The fixed-rate phase is one window, so its percentiles are taken over all of its orders, and so is the CPU
    an order costs there: at a rate every history handles with room to spare the batches are about the same
    size whatever the history, so that cost compares the histories' work an order more steadily than the
    closed loop's, whose batches settle differently from run to run. No rate sweep follows (section 4 has it).
    """
    sizes = dataclasses.replace(Sizes.full(), e2e_orders=checkouts, e2e_rate=rate, e2e_latency_seconds=seconds,
                                latency_windows=1, rate_sweep=())
    existing = Existing(orders=orders, products=products, customers=customers)
    run = run_shop(sizes, step, database=database, existing=existing)
    throughput, at_rate = run["throughput"], run["latency"]
    return {"database": database, "existing": run["existing"], "per_second": throughput["per_second"],
            "latency_ms": throughput["latency_ms"], "email_latency_ms": throughput["email_latency_ms"],
            "placed_latency_ms": throughput["placed_latency_ms"], "emailed": throughput["emailed"],
            "orders": throughput["orders"], "refused": run["refused"], "refusals": run["refusals"],
            "cpu_ms_per_order": run["cpu_ms_per_order"], "python_speed": run.get("python_speed"),
            "at_rate": {"rate": rate, "seconds": seconds, "orders": at_rate["orders"],
                        "emailed": at_rate["emailed"], "latency_ms": at_rate["latency_ms"],
                        "cpu_ms_per_order": at_rate["cpu_ms_per_order"]}}


def order_of_runs(sizes: Sizes) -> list[tuple[int, str]]:
    """The histories in the order measured, each with its pass: short, long; or short, long, long, short."""
    short, long = sizes.growth_orders
    if not sizes.growth_twice:
        return [(short, ""), (long, "")]
    return [(short, "first"), (long, "first"), (long, "second"), (short, "second")]


def run_all(sizes: Sizes, step) -> dict:
    """``python -m bench``'s part: each database with the short and the long history of ``sizes``."""
    databases = ["sqlite", "postgresql"] if sizes.e2e_postgres else ["sqlite"]
    runs = [{**retrying(f"growth, {database}, {orders:,} past orders",
                        lambda: measure(orders=orders, database=database, checkouts=sizes.growth_checkouts,
                                        products=sizes.growth_products, customers=sizes.growth_customers,
                                        rate=sizes.growth_rate, seconds=sizes.growth_rate_seconds, step=step)),
             **({"label": label} if label else {})}
            for database in databases for orders, label in order_of_runs(sizes)]
    return {"growth": {"runs": runs}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    full = Sizes.full()
    parser.add_argument("--orders", default=",".join(str(n) for n in full.growth_orders),
                        help="histories to compare, comma-separated")
    parser.add_argument("--database", default="sqlite,postgresql")
    parser.add_argument("--checkouts", type=int, default=full.growth_checkouts)
    parser.add_argument("--products", type=int, default=full.growth_products)
    parser.add_argument("--customers", type=int, default=full.growth_customers)
    parser.add_argument("--rate", type=float, default=full.growth_rate, help="fixed arrival rate, orders/s")
    parser.add_argument("--seconds", type=float, default=full.growth_rate_seconds, help="... for this long")
    parser.add_argument("--label", default="", help="what this run measures (e.g. 'before indexes')")
    parser.add_argument("--output", type=Path, default=ROOT / "docs" / "benchmarks" / "growth.json",
                        help="results are added to this file's runs")
    args = parser.parse_args()
    results = json.loads(args.output.read_text()) if args.output.exists() else {"runs": []}
    try:
        for database in args.database.split(","):
            for orders in (int(n) for n in args.orders.split(",")):
                run = measure(orders=orders, database=database, checkouts=args.checkouts,
                              products=args.products, customers=args.customers, rate=args.rate,
                              seconds=args.seconds)
                run.update(label=args.label, at=time.strftime("%Y-%m-%d %H:%M"))
                results["runs"].append(run)
                print(f"{database}, {orders:,} orders: {run['per_second']:.1f} orders/s, "
                      f"p99 at {args.rate:g}/s {run['at_rate']['latency_ms']['99']:.0f} ms", file=sys.stderr, flush=True)
                args.output.parent.mkdir(parents=True, exist_ok=True)
                args.output.write_text(json.dumps(results, indent=1))
    finally:
        remove_temp_dirs()


if __name__ == "__main__":
    main()
