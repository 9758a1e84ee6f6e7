"""``python -m bench``: every measurement in one run, with a progress bar, then the report."""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from . import bus, celery_peer, end_to_end, growth, machine, peers, raw, report
from .common import RETRIES, ROOT, Sizes, remove_temp_dirs, retrying

PARTS = ["raw", "celery", "bus", "e2e", "peers", "growth"]


def steps_in(parts: list[str], sizes: Sizes) -> int:
    # e2e: SQLite's shop (start, customers, the closed loop, the fixed rate, the rate sweep, the soak), two copies
    # of each consumer (the first three), PostgreSQL's (the first five).
    sweep = bool(sizes.rate_sweep)
    count = {"raw": 4, "celery": 1, "bus": 3 + 2 * sizes.consumer_variants, "e2e": 5 + sweep,
             "peers": peers.steps(sizes), "growth": growth.steps(sizes)}
    total = sum(count[p] for p in parts)
    if "e2e" in parts:
        total += 3 * sizes.e2e_copies + (4 + sweep) * sizes.e2e_postgres
    return total


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, a few seconds each (for CI)")
    parser.add_argument("--output", type=Path, default=ROOT / "docs",
                        help="folder for benchmarks.md and benchmarks/ (default: docs/)")
    parser.add_argument("--only", default=",".join(PARTS), help=f"comma-separated parts of {PARTS}")
    parser.add_argument("--e2e", default="sqlite,sqlite_2,postgresql",
                        help="which end-to-end runs: sqlite (with the memory soak), sqlite_2 (two copies), postgresql "
                             "(postgresql also runs the growth part on PostgreSQL)")
    parser.add_argument("--growth-orders", help="growth: the short and the long history, in past orders "
                        "(default 1000,200000; 50,200 with --smoke)")
    parser.add_argument("--baseline", type=Path,
                        help="results.json of an earlier run (e.g. the code before an optimisation) to compare with")
    args = parser.parse_args(argv)
    parts = [p for p in PARTS if p in args.only.split(",")]
    sizes = Sizes.smoke() if args.smoke else Sizes.full()
    runs = args.e2e.split(",")
    sizes = Sizes(**{**sizes.__dict__, "e2e_postgres": sizes.e2e_postgres and "postgresql" in runs,
                     "e2e_copies": sizes.e2e_copies and "sqlite_2" in runs})
    if args.growth_orders:
        histories = tuple(int(n) for n in args.growth_orders.split(","))
        if len(histories) != 2:
            parser.error("--growth-orders takes two histories: the short one and the long one")
        sizes = Sizes(**{**sizes.__dict__, "growth_orders": histories})
    if {"e2e", "growth"} & set(parts) and sizes.e2e_postgres and end_to_end.postgres_version() == "not reachable":
        sizes = Sizes(**{**sizes.__dict__, "e2e_postgres": False})

    console = Console(stderr=True)
    results: dict = {
        "command": "python -m bench" + (" --smoke" if args.smoke else "") + (
            f" --only {','.join(parts)}" if parts != PARTS else "") + (
            f" --e2e {args.e2e}" if args.e2e != parser.get_default("e2e") else "") + (
            f" --growth-orders {args.growth_orders}" if args.growth_orders else ""),
        "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "smoke": args.smoke, "sizes": sizes.__dict__, "machine": machine.describe(),
        "load_average_start": machine.load_average(), "python_speed_start": machine.python_speed(),
        "round_trips_start": machine.round_trip_speed(),
    }
    started = time.monotonic()
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, transient=False) as progress:
        task = progress.add_task("starting", total=steps_in(parts, sizes))
        first = [True]

        def step(description: str) -> None:
            if not first[0]:
                progress.advance(task)
            first[0] = False
            progress.update(task, description=description)

        runners = {"raw": raw.run_all, "celery": celery_peer.run_all, "bus": bus.run_all,
                   "e2e": lambda s, st: {"e2e": end_to_end.run_all(s, st)}, "peers": peers.run_all,
                   "growth": growth.run_all}
        for part in parts:
            # Each run of the shop or of a peer retries on its own.
            results.update(runners[part](sizes, step) if part in ("e2e", "peers", "growth")
                           else retrying(part, lambda: runners[part](sizes, step)))
        progress.advance(task)
        progress.update(task, description="done")
    results["seconds"] = time.monotonic() - started
    results["load_average_end"] = machine.load_average()
    results["python_speed_end"] = machine.python_speed()
    results["round_trips_end"] = machine.round_trip_speed()
    results["retries"] = RETRIES
    baseline = json.loads(args.baseline.read_text()) if args.baseline else None
    written = report.write(results, args.output, baseline=baseline)
    remove_temp_dirs()
    console.print(f"wrote {written} in {results['seconds']:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
