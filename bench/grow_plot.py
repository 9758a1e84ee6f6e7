"""Draw bench/growth.py's results: orders/s and p99 on a small and on a long history, per database.

``python -m bench.grow_plot [results.json] [growth.png]`` (by default
docs/benchmarks/growth.json and docs/benchmarks/growth.png). Each bar is the
latest run of its (label, database, history); runs of one label sit side by
side, so a "before" and an "after" can be read against each other.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display on the bench machine
import matplotlib.pyplot as plt  # noqa: E402

from .common import ROOT  # noqa: E402

DATABASES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


def latest_runs(results: dict) -> dict[tuple[str, str, int], dict]:
    """The newest run of each (label, database, orders of history)."""
    runs: dict[tuple[str, str, int], dict] = {}
    for run in results["runs"]:
        runs[(run.get("label", ""), run["database"], run["existing"]["orders"])] = run
    return runs


def _p99(run: dict) -> float:
    """The run's p99 at its fixed rate; a run from before that phase existed has only its closed loop's."""
    return (run["at_rate"] if "at_rate" in run else run)["latency_ms"]["99"]


def plot(results: dict, output: Path, note: str = "shared 2-core machine: indicative") -> Path:
    """The plot of ``results`` (``{"runs": [...]}``) in ``output``; ``note`` ends its title.

    ``python -m bench`` draws its part "growth" with this too.
    """
    runs = latest_runs(results)
    databases = [db for db in DATABASES if any(key[1] == db for key in runs)]
    series = sorted({(label, orders) for label, _, orders in runs}, key=lambda s: (s[0], s[1]))
    width = 0.8 / max(1, len(series))
    figure, axes = plt.subplots(1, 2, figsize=(11, 4.5))
    for axis, title, value in ((axes[0], "Throughput (orders/s, closed loop)", lambda r: r["per_second"]),
                               (axes[1], "Checkout to confirmed, p99 (ms) at a fixed rate", _p99)):
        # One number format for every bar of a plot, decided by its tallest.
        label_format = "%.0f" if max(map(value, runs.values()), default=0) >= 100 else "%.1f"
        for n, (label, orders) in enumerate(series):
            xs, heights = [], []
            for x, database in enumerate(databases):
                run = runs.get((label, database, orders))
                if run is not None:
                    xs.append(x - 0.4 + width * (n + 0.5))
                    heights.append(value(run))
            name = f"{orders:,} past orders" + (f" ({label})" if label else "")
            bars = axis.bar(xs, heights, width, label=name)
            axis.bar_label(bars, fmt=label_format, fontsize=8)
        axis.set_xticks(range(len(databases)), [DATABASES[db] for db in databases])
        axis.set_title(title, fontsize=10)
        axis.grid(axis="y", alpha=0.3)
    # Below both plots, where it can cover no bar.
    handles, labels = axes[0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="lower center", ncol=len(series), fontsize=8, frameon=False)
    held = sorted({(run["existing"]["products"], run["existing"]["customers"]) for run in runs.values()})
    held_text = "; ".join(f"{products:,} products, {customers:,} customers" for products, customers in held)
    figure.suptitle(f"End to end with a small and a long history ({held_text}; {note})", fontsize=10)
    figure.tight_layout(rect=(0, 0.07, 1, 1))
    output.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(output, dpi=110)
    plt.close(figure)
    return output


def main() -> None:
    source = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "benchmarks" / "growth.json"
    output = Path(sys.argv[2]) if len(sys.argv) > 2 else ROOT / "docs" / "benchmarks" / "growth.png"
    print(plot(json.loads(source.read_text()), output))


if __name__ == "__main__":
    main()
