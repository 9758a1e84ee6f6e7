"""The figures the report states: ratios, the targets of issue 5, memory growth."""

from __future__ import annotations

import statistics


def _n(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:,.1f}"


def _ratio(a: float, b: float) -> float:
    return a / b if b else 0.0


def _get(results: dict, *path, default=0.0):
    for key in path:
        if not isinstance(results, dict) or key not in results:
            return default
        results = results[key]
    return results


def targets(r: dict) -> list[tuple[str, str, str, bool | str | None]]:
    """(target, measured, compared with, met) for each of issue 5's targets present in the run.

    ``met`` is True or False for a target, None when the run cannot tell, and
    "info" for a row that only puts a target's figure in context.
    """
    rows = []
    consumer, ceiling = _get(r, "consumer", "per_second"), _get(r, "db_ceiling", "per_second")
    celery = _get(r, "celery", "per_second")
    if consumer and ceiling:
        ratio = _ratio(consumer, ceiling)
        rows.append(("one consumer ≥ 75% of the bare database transaction", f"{ratio:.0%}",
                     f"{_n(consumer)}/s vs {_n(ceiling)}/s", ratio >= 0.75))
    quiet = _get(r, "consumer_no_publish", "per_second")
    if quiet and ceiling:
        ratio = _ratio(quiet, ceiling)
        rows.append(("(the same, with the handler's message left to the relay: BUS_PUBLISH_ON_COMMIT=false)",
                     f"{ratio:.0%}", f"{_n(quiet)}/s vs {_n(ceiling)}/s", ratio >= 0.75))
    batched = _get(r, "db_ceiling_bus_batch", "per_second")
    if consumer and batched:
        ratio = _ratio(consumer, batched)
        rows.append(("(the same consumer against its own database work done in the same batches, no broker)",
                     f"{ratio:.0%}", f"{_n(consumer)}/s vs {_n(batched)}/s", "info"))
    noop = _get(r, "consumer_noop", "per_second")
    if noop and celery:
        rows.append(("one consumer handles more events/s than Celery runs no-op tasks (no-op handler; the "
                     "consumer still writes its inbox row in a transaction)",
                     f"{_ratio(noop, celery):.2f}×", f"{_n(noop)}/s vs {_n(celery)}/s", noop > celery))
    if consumer and celery:
        rows.append(("(the same, with the minimal handler's database work: a guarded UPDATE and an outbox row)",
                     f"{_ratio(consumer, celery):.2f}×", f"{_n(consumer)}/s vs {_n(celery)}/s", consumer > celery))
    parts = [_get(r, key, "per_second") for key in ("db_ceiling_bus_batch", "consume", "publish_batched")]
    if consumer and celery and all(parts):
        # Each message's database work, its delivery and ack, and its outgoing
        # message published with a confirm, each at this run's own bare speed.
        floor = 1 / sum(1 / rate for rate in parts)
        rows.append(("(the minimal handler's parts at their bare speeds, one after another: the batched database "
                     "work, a bare consume and ack, a bare batched publish with confirms)",
                     f"{_n(floor)}/s", f"{_ratio(floor, celery):.2f}× Celery; the consumer does "
                     f"{_ratio(consumer, floor):.0%} of it", "info"))
    relay, one = _get(r, "relay", "per_second"), _get(r, "publish_one_by_one", "per_second")
    if relay and one:
        rows.append(("relay publishes with confirms ≥ 3× one-by-one confirmed pika", f"{_ratio(relay, one):.2f}×",
                     f"{_n(relay)}/s vs {_n(one)}/s", _ratio(relay, one) >= 3))
    e2e = _get(r, "e2e", default={})
    for key, label in (("sqlite", "SQLite"), ("postgresql", "PostgreSQL"), ("sqlite_2", "SQLite, 2 copies")):
        rate = _get(e2e, key, "throughput", "per_second")
        if rate:
            rows.append((f"≥ 150 orders/s checkout → confirmed + email ({label})", f"{_n(rate)}/s",
                         f"{_ratio(rate, 150):.0%} of the target", rate >= 150))
        p99 = _get(e2e, key, "latency", "latency_ms", "99")
        if p99:
            at = _get(e2e, key, "latency", "rate")
            windows = _get(e2e, key, "latency", "p99_windows_ms", default=[])
            seen = (f"; the {len(windows)} windows: {', '.join(f'{w:,.0f}' for w in windows)} ms"
                    if len(windows) > 1 else "")
            rows.append((f"p99 checkout → confirmed < 250 ms at {at:g} orders/s ({label})",
                         f"{p99:,.0f} ms" + (" (the worst window)" if seen else ""),
                         f"{_ratio(p99, 250):.1f}× the limit{seen}", p99 < 250))
    slopes = {name: kib for name, kib in soak_slopes(e2e.get("sqlite", {})).items() if name not in ("web", "relay")}
    if slopes:
        # Levelled off: under 200 KiB a minute during the steady last phase
        # (a leak of one small object per message would show as more).
        growing = sorted(name for name, kib in slopes.items() if kib >= 200)
        measured = (f"{len(slopes) - len(growing)} of {len(slopes)} consumers level off"
                    + (f"; {', '.join(growing)} still grew up to {max(slopes.values()):,.0f} KiB/min" if growing else ""))
        rows.append(("no consumer grows without bound in memory", measured,
                     "growth during the second half of the soak; section 5", None if growing else True))
    return rows


def memory_growth(run: dict) -> dict[str, dict]:
    """For each consumer: RSS at the start and the end of the sampled run, and whether it levelled off."""
    series: dict[str, list[tuple[float, int]]] = {}
    for t, name, rss in run.get("rss_samples", []):
        if name not in ("web", "relay"):
            series.setdefault(name, []).append((t, rss))
    growth = {}
    for name, points in series.items():
        if len(points) < 4:
            continue
        half = len(points) // 2
        first, second = points[:half], points[half:]
        span = points[-1][0] - points[0][0]
        # Levelled off: the second half grew by less than 5% of the first half's peak.
        first_peak, second_peak = max(p[1] for p in first), max(p[1] for p in second)
        growth[name] = {
            "name": name, "start_kib": points[0][1], "end_kib": points[-1][1], "span_s": span,
            "per_minute_kib": (points[-1][1] - points[0][1]) / span * 60 if span else 0.0,
            "second_half_growth_kib": second_peak - first_peak,
            "bounded": second_peak - first_peak < 0.05 * first_peak,
        }
    return growth


def soak_slopes(run: dict) -> dict[str, float]:
    """KiB per minute each process grew during the second half of the run's last phase (the memory soak)."""
    marks = run.get("rss_marks", [])
    if not marks:
        return {}
    start = marks[-1][0]
    end = max((t for t, _, _ in run.get("rss_samples", [])), default=start)
    since = start + (end - start) / 2  # the soak's second half: its first warms the caches
    slopes = {}
    for name in {s[1] for s in run.get("rss_samples", [])}:
        points = [(t, rss) for t, n, rss in run["rss_samples"] if n == name and t >= since]
        if len(points) >= 4 and points[-1][0] > points[0][0]:
            slopes[name] = (points[-1][1] - points[0][1]) / (points[-1][0] - points[0][0]) * 60
    return slopes


def _history_means(runs: list[dict]) -> dict:
    """A history's runs (one, or two measured short, long, long, short) as one: the means of what is compared."""
    mean = {"per_second": statistics.fmean(run["per_second"] for run in runs),
            "p99": statistics.fmean(run["latency_ms"]["99"] for run in runs), "runs": runs}
    if all("at_rate" in run for run in runs):
        mean["rate"] = runs[0]["at_rate"]["rate"]
        mean["rate_p99"] = statistics.fmean(run["at_rate"]["latency_ms"]["99"] for run in runs)
        if all("cpu_ms_per_order" in run["at_rate"] for run in runs):
            mean["rate_cpu"] = statistics.fmean(sum(run["at_rate"]["cpu_ms_per_order"].values()) for run in runs)
    return mean


def growth_changes(r: dict) -> dict[str, dict]:
    """For each database of the growth part: its short and long history (the means of each one's runs), and how
    far apart they are."""
    runs = _get(r, "growth", "runs", default=[])
    changes = {}
    for database in dict.fromkeys(run["database"] for run in runs):
        mine = [run for run in runs if run["database"] == database]
        histories = sorted({run["existing"]["orders"] for run in mine})
        if len(histories) < 2:
            continue
        short, long = (_history_means([run for run in mine if run["existing"]["orders"] == orders])
                       for orders in (histories[0], histories[-1]))
        changes[database] = {
            "short": short, "long": long, "short_orders": histories[0], "long_orders": histories[-1],
            "throughput": _ratio(long["per_second"], short["per_second"]) - 1,
            "p99": _ratio(long["p99"], short["p99"]) - 1,
        }
        # The latency to compare: at the fixed rate, where it is the orders' own path and not queueing.
        if "rate_p99" in short and "rate_p99" in long:
            changes[database]["rate_p99"] = _ratio(long["rate_p99"], short["rate_p99"]) - 1
        # What an order costs at that rate, in batches about the same size whatever the history (not a target).
        if "rate_cpu" in short and "rate_cpu" in long:
            changes[database]["rate_cpu"] = _ratio(long["rate_cpu"], short["rate_cpu"]) - 1
    return changes


def _each_run(change: dict, value, digits: int, unit: str = "") -> str:
    """For histories measured twice, each run's ``value`` behind the means compared (long, then short); else ""."""
    runs = [history["runs"] for history in (change["long"], change["short"])]
    if len(runs[1]) < 2:
        return ""
    long, short = ("/".join(f"{value(run):,.{digits}f}" for run in history) for history in runs)
    return f" (means of the runs short, long, long, short: {long} vs {short}{unit})"


def cpu_floor(r: dict) -> dict[str, float]:
    """The CPU per order no transport can take below: the shop's own code in one process (the peer
    ``in_process``) plus the broker's own CPU per order in section 4's SQLite run; {} unless both were measured."""
    own = _get(r, "peers", "in_process", "cpu_ms_per_order")
    broker = sum(ms for name, ms in _get(r, "e2e", "sqlite", "cpu_ms_per_order", default={}).items()
                 if name.startswith("RabbitMQ"))
    return {"own": own, "broker": broker, "total": own + broker} if own and broker else {}


def postgresql_floor(r: dict) -> dict[str, float]:
    """What PostgreSQL adds to the shop's own code with no transport in the way, and the best ratio to SQLite that
    leaves: the shop in one process on both (the server's CPU counted), and section 4's SQLite run; {} unless all
    were measured. If everything else (HTTP, the broker, the processes) cost the same on both databases, an order
    on PostgreSQL would cost the SQLite run's CPU plus ``extra``, which caps the ratio of their rates."""
    sqlite = _get(r, "peers", "in_process", "cpu_ms_per_order")
    pg = _get(r, "peers", "in_process_postgresql", default={})
    e2e = sum(_get(r, "e2e", "sqlite", "cpu_ms_per_order", default={}).values())
    if not (sqlite and pg and e2e):
        return {}
    postgresql = pg["cpu_ms_per_order"] + pg["server_cpu_ms_per_order"]
    extra = postgresql - sqlite
    return {"sqlite": sqlite, "postgresql": postgresql, "server": pg["server_cpu_ms_per_order"], "extra": extra,
            "e2e_sqlite": e2e, "best_ratio": e2e / (e2e + extra) if e2e + extra > 0 else 0.0,
            "allowed_extra": e2e / 0.9 - e2e}


def round_two_targets(r: dict) -> list[tuple[str, str, str, bool | str | None]]:
    """(target, measured, compared with, met) for each of issue 16's targets, from this run's own measurements.

    Every target has a row: ``met`` is None when this run did not measure it, and the row says why.
    """
    e2e = _get(r, "e2e", default={})
    sqlite, postgresql = (_get(e2e, "sqlite", "throughput", "per_second"),
                          _get(e2e, "postgresql", "throughput", "per_second"))
    celery = _get(r, "peers", "celery_saga", default={})
    saga, ceiling = _get(celery, "throughput", "per_second"), _get(r, "peers", "ceiling", "per_second")
    shop_p99, saga_p99 = _get(e2e, "sqlite", "latency", "latency_ms", "99"), _get(celery, "latency", "latency_ms", "99")
    p99, at = _get(e2e, "postgresql", "latency", "latency_ms", "99"), _get(e2e, "postgresql", "latency", "rate")
    no_sqlite, no_postgresql = "no SQLite end-to-end run in this run", "no PostgreSQL run in this run"
    peers_missing = no_sqlite if not sqlite else "" if saga and ceiling else "the part \"peers\" was not run"
    rows = []

    def row(target: str, missing: str, measured: str, compared: str, met: bool) -> None:
        """A target's row, or, when ``missing`` says why it was not measured, a row saying so."""
        rows.append((target, "—", missing, None) if missing else (target, measured, compared, met))

    pg = postgresql_floor(r)
    pg_text = (f"; the floor: the shop's own code in one process costs {pg['postgresql']:.1f} ms an order on "
               f"PostgreSQL (the server {pg['server']:.1f}) against {pg['sqlite']:.1f} ms on SQLite, "
               f"{pg['extra']:.1f} ms more where 0.9× allows {pg['allowed_extra']:.1f}: at best "
               f"{pg['best_ratio']:.2f}× if all else cost the same on both" if pg else "")
    row("orders/s on PostgreSQL ≥ 0.9× SQLite's", no_sqlite if not sqlite else "" if postgresql else no_postgresql,
        f"{_ratio(postgresql, sqlite):.2f}×", f"{postgresql:.1f}/s vs {sqlite:.1f}/s{pg_text}",
        _ratio(postgresql, sqlite) >= 0.9)
    capacity = (f"; PostgreSQL's own rate in the closed loop was {postgresql:.1f}/s, under the {at or 50:g}/s asked"
                if postgresql and postgresql < (at or 50) else "")
    row(f"p99 checkout → confirmed < 250 ms at {at or 50:g} orders/s on PostgreSQL", "" if p99 else no_postgresql,
        f"{p99:,.0f} ms", f"{_ratio(p99, 250):.1f}× the limit (the worst window){capacity}", p99 < 250)
    row("the shop ≥ 1.5× the Celery saga's orders/s (SQLite, closed loop, same orders)", peers_missing,
        f"{_ratio(sqlite, saga):.2f}×", f"{sqlite:.1f}/s vs {saga:.1f}/s", _ratio(sqlite, saga) >= 1.5)
    rate = _get(celery, "latency", "rate") or _get(e2e, "sqlite", "latency", "rate") or 50
    row(f"the shop's p99 checkout → confirmed lower than the Celery saga's at {rate:g} orders/s (SQLite, the "
        "worst window of each)", peers_missing or ("" if shop_p99 else "no fixed-rate run of the shop"),
        f"{_ratio(shop_p99, saga_p99):.2f}×", f"{shop_p99:,.0f} ms vs {saga_p99:,.0f} ms", shop_p99 < saga_p99)
    row("the shop ≥ 0.5× the ceiling's orders/s (the same writes in one process, no messages)", peers_missing,
        f"{_ratio(sqlite, ceiling):.2f}×", f"{sqlite:.1f}/s vs {ceiling:.1f}/s", _ratio(sqlite, ceiling) >= 0.5)
    # Two cores give an order 2,000 / target ms of CPU in all: the shop's own figure says how far it is.
    cpu = sum(_get(e2e, "sqlite", "cpu_ms_per_order", default={}).values())
    floor = cpu_floor(r)
    floor_text = (f"; the floor: the shop's own code in one process {floor['own']:.1f} ms + RabbitMQ's "
                  f"{floor['broker']:.1f} ms (section 4's run) = {floor['total']:.1f} ms" if floor else "")
    for target in (100, 150):
        row(f"≥ {target} orders/s end to end on SQLite" + (" (long term)" if target == 150 else ""),
            "" if sqlite else no_sqlite, f"{_n(sqlite)}/s",
            f"{_ratio(sqlite, target):.0%} of the target; {cpu:.1f} ms of CPU per order against the "
            f"{2000 / target:.1f} ms two cores allow at that rate{floor_text}", sqlite >= target)
    changes = growth_changes(r)
    for database, name in (("sqlite", "SQLite"), ("postgresql", "PostgreSQL")):
        change = changes.get(database)
        if not change:
            why = "the part \"growth\" was not run" if "growth" not in r else no_postgresql
            rows.append((f"orders/s and p99 with a long and a short history no more than 10% apart ({name})", "—",
                         why, None))
            continue
        short, long = change["short"], change["long"]
        histories = f"{change['long_orders']:,} vs {change['short_orders']:,} past orders"
        rows.append((f"orders/s with {histories} no more than 10% apart ({name})", f"{change['throughput']:+.0%}",
                     f"{long['per_second']:.1f}/s vs {short['per_second']:.1f}/s"
                     + _each_run(change, lambda run: run["per_second"], 1), abs(change["throughput"]) <= 0.1))
        if "rate_p99" in change:
            rows.append((f"p99 checkout → confirmed at {long['rate']:g} orders/s with {histories} no more than "
                         f"10% apart ({name})", f"{change['rate_p99']:+.0%}",
                         f"{long['rate_p99']:,.0f} ms vs {short['rate_p99']:,.0f} ms"
                         + _each_run(change, lambda run: run["at_rate"]["latency_ms"]["99"], 0, " ms"),
                         abs(change["rate_p99"]) <= 0.1))
        else:  # a run from before the growth part had its fixed-rate phase
            rows.append((f"p99 checkout → confirmed (closed loop) with {histories} no more than 10% apart ({name})",
                         f"{change['p99']:+.0%}", f"{long['p99']:,.0f} ms vs {short['p99']:,.0f} ms",
                         abs(change["p99"]) <= 0.1))
    return rows
