"""The report's PNG plots."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402

from ..grow_plot import plot  # noqa: E402
from .figures import _get  # noqa: E402


def _bar(path: Path, title: str, labels: list[str], values: list[float], colors: list[str], unit: str) -> None:
    fig, ax = plt.subplots(figsize=(9, 0.5 * len(labels) + 1.4))
    bars = ax.barh(labels[::-1], values[::-1], color=colors[::-1])
    ax.bar_label(bars, labels=[f"{v:,.0f}" for v in values[::-1]], padding=3, fontsize=9)
    ax.set_xlabel(unit)
    ax.set_title(title, fontsize=10)
    ax.set_xlim(0, max(values + [1]) * 1.18)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_throughput(r: dict, folder: Path) -> Path | None:
    rows = [
        ("pika publish, one confirm each", _get(r, "publish_one_by_one", "per_second"), "#9e9e9e"),
        ("pika publish, batched confirms", _get(r, "publish_batched", "per_second"), "#9e9e9e"),
        ("pika consume + ack", _get(r, "consume", "per_second"), "#9e9e9e"),
        ("bare DB transaction, ORM (SQLite)", _get(r, "db_ceiling", "per_second"), "#9e9e9e"),
        ("the same DB work, bus statements, batched", _get(r, "db_ceiling_bus_batch", "per_second"), "#9e9e9e"),
        ("Celery no-op tasks", _get(r, "celery", "per_second"), "#d62728"),
        ("our relay (confirmed)", _get(r, "relay", "per_second"), "#1f77b4"),
        ("our consumer, minimal handler", _get(r, "consumer", "per_second"), "#1f77b4"),
        ("our consumer, one message a transaction", _get(r, "consumer_unbatched", "per_second"), "#1f77b4"),
        ("our consumer, no-op handler", _get(r, "consumer_noop", "per_second"), "#1f77b4"),
    ]
    rows = [row for row in rows if row[1]]
    if not rows:
        return None
    path = folder / "throughput.png"
    _bar(path, "Messages per second. Grey: this machine's limits; red: Celery; blue: the shop's bus",
         [x[0] for x in rows], [x[1] for x in rows], [x[2] for x in rows], "messages per second")
    return path


def plot_end_to_end(r: dict, folder: Path) -> Path | None:
    e2e = _get(r, "e2e", default={})
    rows = [(label, _get(e2e, key, "throughput", "per_second")) for key, label in
            (("sqlite", "SQLite"), ("sqlite_2", "SQLite, 2 copies"), ("postgresql", "PostgreSQL"))]
    rows = [row for row in rows if row[1]]
    if not rows:
        return None
    path = folder / "end_to_end.png"
    fig, ax = plt.subplots(figsize=(8, 0.6 * len(rows) + 1.6))
    bars = ax.barh([x[0] for x in rows][::-1], [x[1] for x in rows][::-1], color="#1f77b4")
    ax.bar_label(bars, labels=[f"{x[1]:,.1f}" for x in rows][::-1], padding=3)
    ax.axvline(150, color="#d62728", linestyle="--", label="target: 150 orders/s")
    ax.set_xlim(0, max([x[1] for x in rows] + [150]) * 1.15)
    ax.set_xlabel("orders per second, checkout → confirmed with the email sent")
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_latency(r: dict, folder: Path) -> Path | None:
    e2e = _get(r, "e2e", default={})
    curves = [(label, _get(e2e, key, phase, "latencies_ms", default=[]), _get(e2e, key, phase, "rate"))
              for key, label in (("sqlite", "SQLite"), ("postgresql", "PostgreSQL")) for phase in ("latency", "soak")]
    curves.append(("the Celery saga (SQLite)", _get(r, "peers", "celery_saga", "latency", "latencies_ms", default=[]),
                   _get(r, "peers", "celery_saga", "latency", "rate")))
    curves = [c for c in curves if c[1]]
    if not curves:
        return None
    path = folder / "latency.png"
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for label, values, rate in curves:
        ax.plot(sorted(values), [100 * (i + 1) / len(values) for i in range(len(values))],
                label=f"{label}, {rate:g} orders/s")
    ax.axvline(250, color="#d62728", linestyle="--", label="target: p99 < 250 ms")
    ax.axhline(99, color="#9e9e9e", linewidth=0.8)
    ax.set_xscale("log")
    ax.set_xlabel("checkout → confirmed (ms, log scale)")
    ax.set_ylabel("orders (%)")
    ax.set_title("Latency under a fixed arrival rate (cumulative)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_memory(r: dict, folder: Path) -> Path | None:
    run = _get(r, "e2e", "sqlite", default={})
    samples = run.get("rss_samples", [])
    if not samples:
        return None
    path = folder / "memory.png"
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for name in sorted({s[1] for s in samples}):
        if name == "web":
            continue  # the gunicorn arbiter; its workers are its children
        points = [(t, rss / 1024) for t, n, rss in samples if n == name]
        ax.plot([p[0] for p in points], [p[1] for p in points], label=name)
    for t, label in run.get("rss_marks", []):
        ax.axvline(t, color="#9e9e9e", linestyle=":")
        ax.text(t, ax.get_ylim()[1], f" {label}", va="top", fontsize=8, color="#555555")
    ax.set_xlabel("seconds since the load started")
    ax.set_ylabel("resident size (MiB)")
    ax.set_title("Resident memory of each consumer during the SQLite run")
    ax.legend(fontsize=8, ncol=2, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_growth(r: dict, folder: Path) -> Path | None:
    """The growth part's runs, drawn as ``python -m bench.grow_plot`` draws bench/growth.py's."""
    runs = _get(r, "growth", "runs", default=[])
    if not runs:
        return None
    rounds = _get(r, "sizes", "growth_rounds", default=1)
    twice = _get(r, "sizes", "growth_twice", default=False)  # a run from before the shops were measured in turns
    each = (f"{rounds} blocks each, in turns" if rounds > 1 else
            "two runs (first, second pass) each" if twice else "one run each")
    note = "smoke sizes" if r.get("smoke") else f"{each}, started {r['started']}"
    return plot({"runs": runs}, folder / "growth.png", note=note)
