"""``python -m bench.tracing_cost``: end-to-end throughput with tracing off and on, in the same run.

Each round starts the whole shop twice (bench/end_to_end.py, SQLite, closed
loop): once without any OTEL variable, once exporting every span over
OTLP/HTTP to a collector stub in this process (tests/otlp.py, counting only,
as a collector on another machine would cost the shop nothing more). The
rounds rotate the settings' order so that a drift of the machine's speed hits all alike.
``--baseline DIR`` adds a third shop per round run from another checkout
(the code before tracing, e.g. ``git archive`` of it), to show that "off"
costs nothing. Prints one JSON object with every run and the medians.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

from tests.otlp import Collector

from .common import Sizes
from .end_to_end import run_shop

#: The OTEL variables of each setting measured (None: tracing off, no variable at all).
SETTINGS = {
    "off": None,
    "on": {},
    "on, no query spans": {"OTEL_PYTHON_DISABLED_INSTRUMENTATIONS": "dbapi"},
    "on, 1 trace in 10": {"OTEL_TRACES_SAMPLER": "parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG": "0.1"},
}

BASELINE = """
import json, sys
from bench.common import Sizes
from bench.end_to_end import run_shop
sizes = Sizes(**{**Sizes.smoke().__dict__, "e2e_orders": int(sys.argv[1])})
print(json.dumps(run_shop(sizes, lambda _: None, latency=False)))
"""


def _summary(result: dict) -> dict:
    throughput = result["throughput"]
    return {"per_second": round(throughput["per_second"], 1), "emailed": throughput["emailed"],
            "p50_ms": round(throughput["latency_ms"]["50"]), "p99_ms": round(throughput["latency_ms"]["99"]),
            "cpu_ms_per_order": round(sum(result["cpu_ms_per_order"].values()), 1),
            "cpu_ms_per_order_by_process": {name: round(ms, 1) for name, ms in result["cpu_ms_per_order"].items()}}


def _baseline(root: Path, orders: int) -> dict:
    completed = subprocess.run([sys.executable, "-c", BASELINE, str(orders)], cwd=root, capture_output=True,
                               text=True, timeout=900)
    if completed.returncode != 0:
        raise RuntimeError(completed.stderr[-3000:])
    return json.loads(completed.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.tracing_cost", description=__doc__)
    parser.add_argument("--orders", type=int, default=300, help="checkouts per shop (default 300)")
    parser.add_argument("--rounds", type=int, default=4,
                        help="shops per setting, each round starting with the next setting (default 4)")
    parser.add_argument("--baseline", type=Path, help="a checkout of the code before tracing, run as a third setting")
    parser.add_argument("--settings", nargs="+", choices=list(SETTINGS), default=list(SETTINGS),
                        help="which settings to measure (default all; 'off' and 'on' are always among them)")
    args = parser.parse_args(argv)
    settings = {name: otel for name, otel in SETTINGS.items() if name in {"off", "on", *args.settings}}
    sizes = Sizes(**{**Sizes.smoke().__dict__, "e2e_orders": args.orders})
    runs: dict[str, list[dict]] = {name: [] for name in settings} | ({"before": []} if args.baseline else {})
    for round_ in range(args.rounds):
        if args.baseline:
            runs["before"].append(_summary(_baseline(args.baseline, args.orders)))
        # Each round starts with the next setting: a shop run later in a round has been seen to run slower,
        # so every setting takes every place in turn (as many rounds as settings give each place once).
        names = list(settings)
        for name in names[round_ % len(names):] + names[:round_ % len(names)]:
            otel = settings[name]
            with Collector(keep=False) as collector:
                env = {"OTEL_EXPORTER_OTLP_ENDPOINT": collector.endpoint, **otel} if otel is not None else {}
                runs[name].append(_summary(run_shop(sizes, lambda _: None, latency=False, env=env)))
                runs[name][-1]["collector_posts"] = collector.posts
        print(f"round {round_ + 1}: " + json.dumps({name: results[-1] for name, results in runs.items()}),
              file=sys.stderr)
    medians = {name: {key: statistics.median(r[key] for r in results) for key in ("per_second", "cpu_ms_per_order")}
               for name, results in runs.items()}
    cost = 1 - medians["on"]["per_second"] / medians["off"]["per_second"]
    print(json.dumps({"orders": args.orders, "runs": runs, "medians": medians,
                      "throughput_cost_with_tracing": round(cost, 3)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
