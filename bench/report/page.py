"""docs/benchmarks.md: the tables, the plots and the notes, from one run's results."""

from __future__ import annotations

import json
from pathlib import Path

from .figures import _get, _n, _ratio, growth_changes, memory_growth, round_two_targets, soak_slopes, targets
from .plots import plot_end_to_end, plot_growth, plot_latency, plot_memory, plot_throughput

NOTES = Path(__file__).resolve().parents[1] / "optimisations.md"


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---:" if i else "---" for i in range(len(header))) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _rate(x: dict) -> str:
    """The rate in bold; for a repeated measurement, every run's rate after it."""
    runs = x.get("runs_per_second", [])
    return f"**{_n(x['per_second'])}**" + (
        f" (median of {len(runs)}: {', '.join(_n(v) for v in runs)})" if len(runs) > 1 else "")


def _machine(r: dict) -> str:
    m = r["machine"]
    return _table(["", ""], [
        ["CPU", f"{m['cpu']} ({m['cores']} cores)"], ["RAM", f"{m['ram_gib']} GiB"], ["OS", m["os"]],
        ["Python", m["python"]], ["Django", m["django"]], ["pika", m["pika"]], ["Celery", m["celery"]],
        ["RabbitMQ", m["rabbitmq"]], ["SQLite", m["sqlite"]], ["PostgreSQL", m["postgresql"]],
        ["load average (1, 5, 15 min) at start / end", f"{r['load_average_start']} / {r['load_average_end']}"],
        ["Python speed at start / end (million loop steps a second, one core; see below)",
         _start_end(r, "python_speed")],
        ["process round trips at start / end (thousand a second, one byte over a local socket pair; see below)",
         _start_end(r, "round_trips")],
        ["duration of the run", f"{r['seconds']:.0f} s"],
    ])


def _start_end(r: dict, probe: str) -> str:
    """A machine probe (``machine.python_speed``, ``machine.round_trip_speed``) as read at the start and the end."""
    if f"{probe}_start" not in r:
        return "not measured (an older run)"
    return f"{r[f'{probe}_start']:.1f} / {r[f'{probe}_end']:.1f}"


def _limits(r: dict) -> str:
    rows = []
    for key, label, what in (
        ("publish_one_by_one", "pika publish, persistent, one confirm per message", "messages"),
        ("publish_batched", "pika publish, persistent, batched confirms", "messages"),
        ("consume", "pika consume, manual ack each, prefetch 32", "messages"),
        ("db_ceiling", "inbox insert + guarded state UPDATE + outbox insert written with the ORM "
         "(`objects.create`), one transaction each (SQLite, WAL) — **the ceiling**", "messages"),
        ("db_ceiling_bus", "the same work through the bus's own statements (the consumer's inbox "
         "`INSERT … ON CONFLICT DO NOTHING`, `OutboxMessage.record`), one transaction each", "messages"),
        ("db_ceiling_bus_batch", "the same, 32 messages a transaction with a savepoint each (the consumer's "
         "batches)", "messages"),
    ):
        if key in r:
            x = r[key]
            size = x.get("messages", x.get("transactions"))
            extra = f", batches of {x['batch']}" if "batch" in x else ""
            cpu = f"{x['cpu_ms_each']:.2f}" if "cpu_ms_each" in x else "—"
            rows.append([label, f"{size:,} {what}{extra}", f"{x['seconds']:.2f}", _rate(x), cpu])
    return _table(["measurement", "size", "seconds", "per second", "CPU ms each"], rows) if rows else ""


def _bus(r: dict) -> str:
    rows = []
    one, batched = _get(r, "publish_one_by_one", "per_second"), _get(r, "publish_batched", "per_second")
    consume, ceiling = _get(r, "consume", "per_second"), _get(r, "db_ceiling", "per_second")
    celery = _get(r, "celery", "per_second")
    if "celery" in r:
        c = r["celery"]
        rows.append([f"Celery no-op task, solo worker, acks late, persistent, prefetch {c.get('prefetch', 64)} "
                     "(first publish → last "
                     f"done; the worker alone: {_n(c['worker_only_per_second'])}/s)",
                     f"**{_n(c['per_second'])}**", "—", "—", "—", "1.00×"])
    if "relay" in r:
        x = r["relay"]
        rows.append([f"our relay: {x['messages']:,} outbox rows swept, published and confirmed",
                     _rate(x), f"{_ratio(x['per_second'], one):.2f}× one-by-one pika, "
                     f"{_ratio(x['per_second'], batched):.0%} of batched pika", "—", "—",
                     f"{_ratio(x['per_second'], celery):.2f}×" if celery else "—"])
    for key, label in (("consumer", "our consumer, one process: inbox + minimal handler + its message published "
                                    "on commit"),
                       ("consumer_no_publish", "the same, its message left to the relay (BUS_PUBLISH_ON_COMMIT=false)"),
                       ("consumer_unbatched", "the same, one message a transaction (BUS_BATCH=1)"),
                       ("consumer_noop", "our consumer with a no-op handler (the inbox row still written)")):
        if key in r:
            x = r[key]
            cpu = f"{x['cpu_ms_each']:.2f}" if "cpu_ms_each" in x else "—"
            rows.append([f"{label} ({x['messages']:,} messages)", _rate(x),
                         f"{_ratio(x['per_second'], consume):.0%} of bare pika consume",
                         f"{_ratio(x['per_second'], ceiling):.0%}", cpu,
                         f"{_ratio(x['per_second'], celery):.2f}×" if celery else "—"])
    return _table(["", "per second", "vs the broker's limit", "vs the DB transaction", "CPU ms each",
                   "vs Celery"], rows)


def _e2e(r: dict) -> str:
    e2e = _get(r, "e2e", default={})
    rows = []
    for key, label in (("sqlite", "SQLite"), ("sqlite_2", "SQLite, 2 copies of each consumer"),
                       ("postgresql", "PostgreSQL")):
        run = e2e.get(key)
        if not run:
            continue
        t = run["throughput"]
        lat = run.get("latency")
        latency = (f"{lat['latency_ms']['50']:,.0f} / {lat['latency_ms']['95']:,.0f} / "
                   f"**{lat['latency_ms']['99']:,.0f}**" if lat else "—")
        email = (f"{lat['email_latency_ms']['99']:,.0f}" if lat else "—")
        rows.append([label, f"{t['emailed']:,} of {t['orders']:,}", f"{t['seconds']:.1f}", f"**{t['per_second']:.1f}**",
                     f"{lat['rate']:g}/s: {lat['emailed']:,} of {lat['orders']:,}" if lat else "—", latency, email])
    table = _table(["database", "orders confirmed + emailed", "seconds", "orders/s",
                    "fixed arrival rate", "p50 / p95 / p99 to confirmed (ms)", "p99 to email (ms)"], rows)
    calm = []
    for key, label in (("sqlite", "SQLite"), ("postgresql", "PostgreSQL")):
        soak = _get(e2e, key, "soak", default=None)
        if soak:
            ms = soak["latency_ms"]
            calm.append([label, f"{soak['rate']:g}/s for {soak['orders'] / soak['rate']:g} s",
                         f"{soak['emailed']:,} of {soak['orders']:,}",
                         f"{ms['50']:,.0f} / {ms['95']:,.0f} / **{ms['99']:,.0f}**",
                         f"{soak['email_latency_ms']['99']:,.0f}"])
    legs = []
    for key, label in (("sqlite", "SQLite"), ("postgresql", "PostgreSQL")):
        lat = _get(e2e, key, "latency", default=None)
        if lat and "placed_latency_ms" in lat:
            for leg, name in (("answer_latency_ms", "the checkout answered (202)"),
                              ("placed_latency_ms", "the order placed by the orders service"),
                              ("latency_ms", "the order confirmed"), ("email_latency_ms", "the email sent")):
                ms = lat[leg]
                legs.append([label, name, f"{ms['50']:,.0f} / {ms['95']:,.0f} / {ms['99']:,.0f}"])
    if legs:
        table += ("\n\nWhere the latency at the fixed rate goes: from the checkout sent to each step.\n\n"
                  + _table(["database", "until", "p50 / p95 / p99 (ms)"], legs))
    cpu = {label: e2e[key]["cpu_ms_per_order"] for key, label in (
        ("sqlite", "SQLite"), ("sqlite_2", "SQLite, 2 copies"), ("postgresql", "PostgreSQL")) if e2e.get(key, {}).get("cpu_ms_per_order")}
    if cpu:
        names = list(next(iter(cpu.values())))
        for per in cpu.values():
            names += [n for n in per if n not in names]
        cpu_rows = [[name] + [f"{per[name]:.2f}" if name in per else "—" for per in cpu.values()] for name in names]
        cpu_rows.append(["**all**"] + [f"**{sum(per.values()):.1f}**" for per in cpu.values()])
        table += ("\n\nWhere the CPU goes: milliseconds of CPU per order confirmed and emailed, by process, during "
                  "the closed-loop run (read from /proc before and after). On two cores, 2,000 ms of CPU a second "
                  "divided by the total is the most orders a second the shop could do here.\n\n"
                  + _table(["process"] + [f"CPU ms per order ({label})" for label in cpu], cpu_rows))
    at_rate = []
    for key, label in (("sqlite", "SQLite"), ("postgresql", "PostgreSQL")):
        lat = _get(e2e, key, "latency", default=None)
        if lat and lat.get("cpu_ms_per_order_windows"):
            windows = lat["cpu_ms_per_order_windows"]
            at_rate.append([label, f"{lat['rate']:g}/s", " / ".join(f"{ms:.1f}" for ms in windows),
                            " / ".join(f"{ms * lat['rate'] / 1000:.2f}" for ms in windows)])
    if at_rate:
        table += ("\n\nThe CPU per order at the fixed rate, window by window (every process, as above). Orders "
                  "arriving one at a time make smaller batches than the closed loop's, so an order can cost more "
                  "there; the rate times that cost is how many of the two cores were busy.\n\n"
                  + _table(["database", "fixed arrival rate", "CPU ms per order, each window",
                            "cores busy, each window"], at_rate))
    sweep = []
    for key, label in (("sqlite", "SQLite"), ("postgresql", "PostgreSQL")):
        lat = _get(e2e, key, "latency", default=None)
        rows = ([{"rate": lat["rate"], "cpu_ms_per_order": sum(lat["cpu_ms_per_order"].values()),
                  "latency_ms": lat["latency_ms"], "worst": True}] if lat and lat.get("cpu_ms_per_order") else [])
        rows += e2e.get(key, {}).get("rate_sweep", [])
        closed = e2e.get(key, {}).get("cpu_ms_per_order")
        for row in sorted(rows, key=lambda row: row["rate"]):
            ms = row["latency_ms"]
            sweep.append([label, f"{row['rate']:g}/s" + (" (worst window above)" if row.get("worst") else ""),
                          f"{row['cpu_ms_per_order']:.1f}", f"{row['cpu_ms_per_order'] * row['rate'] / 1000:.2f}",
                          f"{ms['50']:,.0f} / {ms['99']:,.0f}"])
        if closed and sweep and sweep[-1][0] == label:
            per_second = e2e[key]["throughput"]["per_second"]
            sweep.append([label, f"closed loop ({per_second:.1f}/s)", f"{sum(closed.values()):.1f}",
                          f"{sum(closed.values()) * per_second / 1000:.2f}", "—"])
    if any(len([row for row in sweep if row[0] == label]) > 2 for label in ("SQLite", "PostgreSQL")):
        table += ("\n\nThe CPU an order costs by arrival rate (one window of each rate after the windows above, "
                  "every process counted). The thinner the arrivals, the more an order costs: each consumer then "
                  "handles its deliveries one by one, one transaction, publish and wake-up each, where under load "
                  "it takes what waits in one batch. A shop that must keep up at a rate needs the cores that rate "
                  "costs at batches it can form without much queueing; the closed loop is the other end, batches "
                  "as large as the queues allow.\n\n"
                  + _table(["database", "arrival rate", "CPU ms per order", "cores busy",
                            "p50 / p99 to confirmed (ms)"], sweep))
    if calm:
        table += ("\n\nThe same latency at a lower fixed rate (the memory run of section 5):\n\n"
                  + _table(["database", "fixed arrival rate", "orders confirmed + emailed",
                            "p50 / p95 / p99 to confirmed (ms)", "p99 to email (ms)"], calm))
    return table


def _memory(r: dict) -> str:
    e2e = _get(r, "e2e", default={})
    names = sorted({n for run in e2e.values() for n in run.get("rss_kib", {}) if n != "web"})
    if not names:
        return ""
    keys = [(k, label) for k, label in (("sqlite", "SQLite"), ("sqlite_2", "SQLite, 2 copies"),
                                         ("postgresql", "PostgreSQL")) if k in e2e]
    growth = memory_growth(e2e.get("sqlite", {}))
    soak = soak_slopes(e2e.get("sqlite", {}))
    rows = []
    for name in names:
        row = [name] + [f"{e2e[k]['rss_kib'][name] / 1024:.1f}" if name in e2e[k].get("rss_kib", {}) else "—"
                        for k, _ in keys]
        g = growth.get(name)
        row.append(f"{g['start_kib'] / 1024:.1f} → {g['end_kib'] / 1024:.1f} ({g['second_half_growth_kib']:+,} KiB)"
                   if g else "—")
        row.append(f"{soak[name]:+,.0f}" if name in soak else "—")
        rows.append(row)
    table = _table(["process"] + [f"RSS after the {label} run (MiB)" for _, label in keys]
                   + ["SQLite run, first → last sample (MiB; 2nd-half peak vs 1st)",
                      "growth during the second half of the soak (KiB/min)"], rows)
    samples = _get(r, "consumer", "rss_samples_kib", default=[])
    if len(samples) >= 2:
        table += (f"\n\nThe bus alone: the one-process consumer of section 3 (minimal handler) went from "
                  f"{samples[0] / 1024:.1f} to {samples[-1] / 1024:.1f} MiB over its "
                  f"{r['consumer']['messages']:,} messages (peak {max(samples) / 1024:.1f} MiB, "
                  f"{len(samples)} samples).")
    return table


def _percentiles(ms: dict) -> str:
    return f"{ms['50']:,.0f} / {ms['95']:,.0f} / **{ms['99']:,.0f}**"


#: The bus tables a peer's audit counts that only the saga could write to (seeding sends these services nothing).
SAGA_BUS_TABLES = ("orders_outbox", "payments_outbox", "notifications_outbox", "orders_inbox", "payments_inbox")


def _audit(audit: dict) -> str:
    """What a peer's audit found, in a few words."""
    bus_rows = sum(audit[name] for name in SAGA_BUS_TABLES)
    return (f"{audit['orders']:,} orders, {audit['orders_confirmed']:,} confirmed, {audit['notifications_sent']:,} "
            f"emails, {audit['summaries_confirmed']:,} summaries, {audit['checkouts_placed']:,} checkouts placed, "
            f"{bus_rows} rows in the outboxes and inboxes of orders and payments and the outbox of notifications")


def _peers(r: dict) -> str:
    shop = _get(r, "e2e", "sqlite", default={})
    celery = _get(r, "peers", "celery_saga", default={})
    ceiling = _get(r, "peers", "ceiling", default={})
    in_process = _get(r, "peers", "in_process", default={})
    in_process_pg = _get(r, "peers", "in_process_postgresql", default={})
    if not celery and not ceiling and not in_process:
        return "Not measured in this run (the part \"peers\")."
    rows = []
    for label, run in (("the shop (section 4, SQLite)", shop), ("the Celery saga", celery)):
        if not run:
            continue
        t, lat = run["throughput"], run.get("latency")
        rows.append([label, f"{t['emailed']:,} of {t['orders']:,}", f"**{t['per_second']:.1f}**",
                     _percentiles(t["latency_ms"]),
                     f"{lat['rate']:g}/s: {lat['emailed']:,} of {lat['orders']:,}" if lat else "—",
                     _percentiles(lat["latency_ms"]) if lat else "—",
                     f"{sum(run.get('cpu_ms_per_order', {}).values()):.1f}"])
    if ceiling:
        rows.append(["the ceiling (one process, no messages)", f"{ceiling['orders']:,}",
                     f"**{ceiling['per_second']:.1f}**", "—", "—", "—", f"{ceiling['cpu_ms_per_order']:.1f}"])
    if in_process:
        rows.append([IN_PROCESS_ROW, f"{in_process['orders']:,}", f"**{in_process['per_second']:.1f}**", "—", "—", "—",
                     f"{in_process['cpu_ms_per_order']:.1f}"])
    if in_process_pg:
        rows.append([IN_PROCESS_ROW + ", on PostgreSQL", f"{in_process_pg['orders']:,}",
                     f"**{in_process_pg['per_second']:.1f}**", "—", "—", "—",
                     f"{in_process_pg['cpu_ms_per_order'] + in_process_pg['server_cpu_ms_per_order']:.1f} (of which "
                     f"the server {in_process_pg['server_cpu_ms_per_order']:.1f})"])
    table = _table(["", "orders (closed loop)", "orders/s", "p50 / p95 / p99 to confirmed, closed loop (ms)",
                    "fixed arrival rate", "p50 / p95 / p99 to confirmed at that rate (ms; the worst window)",
                    "CPU ms per order, every process"], rows)
    cpu = {label: per for label, per in (("the shop, SQLite", shop.get("cpu_ms_per_order")),
                                         ("the Celery saga", celery.get("cpu_ms_per_order"))) if per}
    if ceiling:
        cpu["the ceiling"] = {"the ceiling's one process": ceiling["cpu_ms_per_order"]}
    if in_process:
        cpu["the shop in one process"] = _in_process_cpu(in_process)
    if in_process_pg:
        cpu["the shop in one process, PostgreSQL"] = {
            **_in_process_cpu(in_process_pg), "PostgreSQL server": in_process_pg["server_cpu_ms_per_order"]}
    if cpu:
        names = [name for per in cpu.values() for name in per]
        names = list(dict.fromkeys(names))
        cpu_rows = [[name] + [f"{per[name]:.2f}" if name in per else "—" for per in cpu.values()] for name in names]
        cpu_rows.append(["**all**"] + [f"**{sum(per.values()):.1f}**" for per in cpu.values()])
        table += ("\n\nWhere the CPU goes: milliseconds of CPU per order, by process, during each closed loop "
                  "(the ceiling and the shop in one process: their own process, which is all there is; the shop "
                  "in one process split by what it was doing).\n\n"
                  + _table(["process"] + [f"CPU ms per order ({label})" for label in cpu], cpu_rows))
    audits = [f"{label}: {_audit(run['audit'])}" for label, run in (
        ("the Celery saga", celery), ("the ceiling", ceiling), ("the shop in one process", in_process),
        ("the shop in one process on PostgreSQL", in_process_pg)) if run.get("audit")]
    if audits:
        table += "\n\nWhat each peer's databases held afterwards: " + "; ".join(audits) + "."
    if in_process:
        by_service = ", ".join(
            f"{service} {count:g} ({in_process['delivery_cpu_ms_per_order'][service]:.1f} ms)"
            for service, count in in_process["deliveries_by_service"].items() if count)
        table += (f"\n\nThe shop in one process delivered {in_process['messages_per_order']:g} messages per order, "
                  f"{in_process['deliveries_per_order']:g} deliveries (each message to every consumer subscribed to "
                  f"it; per order by service, with their CPU ms per order: {by_service}).")
        table += _statements(in_process, in_process_pg)
    return table


def _statements(*runs: dict) -> str:
    """The SQL statements the shop in one process sent per order, by service (BEGIN and COMMIT not counted:
    on PostgreSQL psycopg sends them itself, two more round trips for each transaction)."""
    counted = [(run, run["statements_by_database"]) for run in runs if run.get("statements_by_database")]
    if not counted:
        return ""
    parts = []
    for run, by_database in counted:
        where = "on PostgreSQL" if run.get("database") == "postgresql" else "on SQLite"
        listed = ", ".join(f"{service} {count:.1f}" for service, count in by_database.items())
        parts.append(f"{where} {run['statements_per_order']:.1f} ({listed})")
    return ("\n\nSQL statements per order sent by the shop in one process, every database together and by "
            "service (without BEGIN and COMMIT, which psycopg sends itself on PostgreSQL, and SQLite's "
            "BEGIN IMMEDIATE counted as one): " + "; ".join(parts) + ". Each statement is a round trip to "
            "the server on PostgreSQL; on SQLite a call into the library in the same process.")


#: The peers table's row for ``bench.in_process``.
IN_PROCESS_ROW = ("the shop in one process (its own code: the checkout through Django and every handler with its "
                  "inbox and outbox; no broker, no HTTP server)")


def _in_process_cpu(run: dict) -> dict[str, float]:
    """The shop in one process's CPU per order by what it was doing; the rest is the loop's own (os.times's total)."""
    split = run["cpu_split_ms_per_order"]
    labels = {"checkout requests": "in one process: the checkout requests (Django, the view)",
              "deliveries": "in one process: the deliveries (the consumers, their handlers, inboxes and outboxes)",
              "outbox rows marked sent": "in one process: the outbox rows marked sent"}
    cpu = {labels.get(name, f"in one process: {name}"): ms for name, ms in split.items()}
    rest = run["cpu_ms_per_order"] - sum(split.values())
    if rest > 0:
        cpu["in one process: the rest (the loop, os.times's coarser clock)"] = rest
    return cpu


def _at_rate(run: dict) -> str:
    """The growth run's fixed-rate phase: its percentiles, at what rate and how many orders."""
    at = run.get("at_rate")
    if not at:
        return "—"
    return f"{_percentiles(at['latency_ms'])} at {at['rate']:g}/s, {at['emailed']:,} of {at['orders']:,}"


def _at_rate_cpu(run: dict) -> str:
    """The CPU an order cost in the growth run's fixed-rate phase, every process; "—" where not kept."""
    per_process = run.get("at_rate", {}).get("cpu_ms_per_order")
    return f"{sum(per_process.values()):.1f}" if per_process else "—"


def _growth(r: dict) -> str:
    runs = _get(r, "growth", "runs", default=[])
    if not runs:
        return "Not measured in this run (the part \"growth\")."
    label = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
    rows = [[label.get(run["database"], run["database"]), f"{run['existing']['orders']:,}",
             f"{run['existing']['products']:,} / {run['existing']['customers']:,}",
             f"{run['existing']['seconds']:,.0f}", f"{run['emailed']:,} of {run['orders']:,}",
             f"**{run['per_second']:.1f}**", _percentiles(run["latency_ms"]),
             f"{sum(run['cpu_ms_per_order'].values()):.1f}", _at_rate(run), _at_rate_cpu(run),
             f"{run['python_speed']:.1f}" if run.get("python_speed") else "—"] for run in runs]
    table = _table(["database", "past orders", "products / customers", "history written in (s)",
                    "orders confirmed + emailed", "orders/s", "p50 / p95 / p99 to confirmed, closed loop (ms)",
                    "CPU ms per order, every process", "p50 / p95 / p99 to confirmed at a fixed rate (ms)",
                    "CPU ms per order at the fixed rate", "Python speed just before (million loop steps a second)"],
                   rows)
    apart = [f"{label.get(db, db)}: orders/s {c['throughput']:+.0%}, p99 at the fixed rate "
             + (f"{c['rate_p99']:+.0%}" if "rate_p99" in c else "not measured")
             + f" (closed loop {c['p99']:+.0%})"
             + (f", CPU an order at the fixed rate {c['rate_cpu']:+.0%}" if "rate_cpu" in c else "")
             for db, c in growth_changes(r).items()]
    blocks = [f"{label.get(run['database'], run['database'])} with {run['existing']['orders']:,} past orders "
              + ", ".join(f"{rate:.1f}" for rate in run["blocks_per_second"])
              for run in runs if len(run.get("blocks_per_second", [])) > 1]
    refused = [f"{label.get(run['database'], run['database'])} with {run['existing']['orders']:,} past orders: "
               + ", ".join(f"{count} × {why}" for why, count in run["refusals"].items())
               for run in runs if run.get("refusals")]
    return (table + ("\n\nThe long history against the short one: " + "; ".join(apart) + "." if apart else "")
            + ("\n\nEach block's orders/s in the closed loop, in the order each shop ran them: " + "; ".join(blocks)
               + "." if blocks else "")
            + ("\n\nCheckouts the shop did not accept (the answer, or the load generator's error): "
               + "; ".join(refused) + "." if refused else ""))


def _growth_method(r: dict) -> str:
    """How section 7 measured: the runs of this results file, whichever way they were taken."""
    rounds = _get(r, "sizes", "growth_rounds", default=1)
    warmup = _get(r, "sizes", "growth_warmup", default=0)
    if rounds > 1:
        turns = (
            "Each database's shops, one for each history, are started together and measured in turns: "
            + (f"first {warmup:,} checkouts on each, not counted (in every sequence of runs measured one shop "
               "after another, the first run cost the most CPU an order); then " if warmup else "")
            + f"each one's closed loop in {rounds} blocks, short, long, long, short and so on, and then its "
            f"fixed rate in {rounds} windows in the same order. A row pools its shop's blocks: the orders/s is "
            "all their orders over all their time, the percentiles are over all their orders, and the text "
            "below the table gives each block's orders/s. The machine's speed drifts by more than the 10% the "
            "target allows within minutes (two runs of one history minutes apart have differed by "
            "10-17%), so whole runs one after another measured the hour as much as the history; blocks a few "
            "seconds apart, taken in turns, see the same machine. The shop not being measured idles meanwhile "
            "(a few ms of CPU a second), alike for each history. ")
    elif _get(r, "sizes", "growth_twice", default=False):
        turns = ("Each database's histories are measured twice, in the order short, long, long, short (the table's "
                 "order), and compared by the means of their two runs: the machine's speed drifts by more than the "
                 "10% the target allows over the half hour the four runs take, and this order cancels a steady "
                 "drift. ")
    else:
        turns = "Each database and history is measured once. "
    return ("Each row is the end-to-end closed loop of section 4 on a shop that already holds a history "
            "(`bench/grow.py`, written into the migrated databases before any process starts: past orders with "
            "every row their saga left in each service, outbox and inbox included, and the products and "
            "customers above), followed on the same started shop by checkouts arriving at a fixed rate that "
            "every database and history handles with room to spare. The closed loop's latency is mostly "
            "queueing and moves with the throughput; the fixed rate's is each order's own path through the "
            "services, and that is the latency the target compares, its percentiles taken over all of the "
            "phase's orders. Its CPU an order (where the run kept it) is a steadier measure of what the history "
            "adds to an order's work than the closed loop's rate: at that rate the batches are about the same "
            "size whatever the history, where the closed loop's settle differently from run to run. "
            + turns
            + "The last column times a plain Python loop just before the closed loop (as the machine rows of "
            "the first table do at the start and end of the whole run). `python -m bench.growth` runs the same "
            "measurement on its own and keeps its runs in `benchmarks/growth.json`.")


def _baseline(r: dict, baseline: dict | None) -> str:
    if not baseline:
        return ""
    rows = []
    for key, label in (("relay", "relay: outbox rows published and confirmed per second"),
                       ("consumer", "one consumer: messages handled per second"),
                       ("db_ceiling", "bare DB transaction with the ORM (the same work both times: shows the noise)")):
        before, after = _get(baseline, key, "per_second"), _get(r, key, "per_second")
        if before and after:
            rows.append([label, _n(before), _n(after), f"{_ratio(after, before):.2f}×"])
    for key, label in (("sqlite", "end to end, SQLite, orders/s"), ("postgresql", "end to end, PostgreSQL, orders/s")):
        before = _get(baseline, "e2e", key, "throughput", "per_second")
        after = _get(r, "e2e", key, "throughput", "per_second")
        if before and after:
            rows.append([label, f"{before:.1f}", f"{after:.1f}", f"{_ratio(after, before):.2f}×"])
        before = sum((_get(baseline, "e2e", key, "cpu_ms_per_order") or {}).values())
        after = sum((_get(r, "e2e", key, "cpu_ms_per_order") or {}).values())
        if before and after:
            rows.append([label.replace("orders/s", "CPU ms per order, every process"), f"{before:.1f}",
                         f"{after:.1f}", f"{_ratio(before, after):.2f}× less"])
        before = _get(baseline, "e2e", key, "latency", "latency_ms", "99")
        after = _get(r, "e2e", key, "latency", "latency_ms", "99")
        same_rate = _get(baseline, "e2e", key, "latency", "rate") == _get(r, "e2e", key, "latency", "rate")
        if before and after and same_rate:
            rows.append([label.replace("orders/s", "p99 ms at the fixed rate"), f"{before:,.0f}", f"{after:,.0f}",
                         f"{_ratio(before, after):.2f}× lower"])
    speed = (f", Python speed {baseline['python_speed_start']:.1f} at its start against {r['python_speed_start']:.1f} "
             f"at this run's" if "python_speed_start" in baseline and "python_speed_start" in r else "")
    if "round_trips_start" in baseline and "round_trips_start" in r:
        speed += (f", process round trips {baseline['round_trips_start']:.1f} thousand a second against "
                  f"{r['round_trips_start']:.1f}")
    note = (f"\nThe \"before\" column is `{baseline.get('command', 'python -m bench')}` run on "
            f"{baseline.get('code', 'the code before these changes')}, on the same machine, shortly before this run "
            f"(load average then: {baseline.get('load_average_start', '?')}{speed}); its results are kept in "
            f"`benchmarks/baseline.json`. {baseline.get('note', '')}\n")
    return "### Before and after, measured\n\n" + _table(["", "before", "after", "change"], rows) + "\n" + note


def render(r: dict, plots: dict[str, Path | None], baseline: dict | None = None) -> str:
    def image(key: str, alt: str) -> str:
        return f"![{alt}](benchmarks/{plots[key].name})\n" if plots.get(key) else ""

    met = {True: "**met**", False: "**not met**", None: "**not shown** (see section 5)", "info": "for comparison"}
    target_rows = [[t, m, c, met[ok]] for t, m, c, ok in targets(r)]
    round_two = {**met, None: "**not measured**"}
    round_two_rows = [[t, m, c, round_two[ok]] for t, m, c, ok in round_two_targets(r)]
    sections = [
        "# Benchmarks",
        "",
        "The shop's bus and checkout measured against this machine's own limits and against Celery, the whole "
        "saga against the same saga as Celery tasks and against its bare writes, and the checkout on a long "
        "history, all in one run (issues 5 and 16). Generated by `bench/report/`; do not edit by hand.",
        "",
        f"Command: `{r['command']}` (also `bin/bench`), started {r['started']}."
        + (" **Smoke sizes: these numbers only show that the suite works.**" if r.get("smoke") else ""),
        "",
        "## The machine",
        "",
        _machine(r),
        "",
        "The load average is the run's own (the end-to-end runs keep both cores busy with the shop's "
        "processes); nothing else was measured at the same time. The ratios compare measurements taken "
        "minutes apart in the same run. The same code varies between runs (about ±10% in rates, much more "
        "in tail latency), so the measurements behind a target are repeated and the CPU columns (CPU time "
        "per message or per order) are given beside the rates: they are steadier. The machine itself is "
        "a virtual one sharing its host, and its speed drifts by the hour: the same code has used from "
        "26 to 45 ms of CPU per order end to end on different hours of the same day. Two rows time the "
        "machine at the start and the end of the run so a run can be set against another: a plain Python "
        "loop, and one-byte round trips between two processes (system calls and wake-ups, a large part of "
        "what the shop's many small messages cost, and what a shared host may slow down more than plain "
        "computation; the Python loop alone moved by about 10% across that swing).",
        "",
        ("Measured again after a failure (the shared broker restarted by another run, for instance): "
         + "; ".join(r["retries"]) + ".\n") if r.get("retries") else "",
        "## Targets",
        "",
        _table(["target (issue 5)", "measured", "compared with", ""], target_rows),
        "",
        "Issue 16's targets, each from this run's own measurements: the end-to-end runs of section 4, the "
        "peers of section 6 and the histories of section 7.",
        "",
        _table(["target (issue 16)", "measured", "compared with", ""], round_two_rows),
        "",
        "## 1. The limits: bare pika and the bare database transaction",
        "",
        _limits(r),
        "",
        "## 2 and 3. Celery and our bus",
        "",
        _bus(r),
        "",
        image("throughput", "messages per second"),
        "Relay: rows recorded with the real `OutboxMessage.record` inside transactions (no publish on commit), "
        "then `shopsite.bus.publisher.sweep` until every row is confirmed and marked sent. Consumer: the real "
        "`shopsite.bus.consumer.Consumer` as its own process on messages already waiting in its queue, with a "
        "minimal handler (`bench/handlers.py`: one guarded UPDATE and one outbox row), so it does the same "
        "database work as the bare transactions above plus everything the bus adds: decoding and validating "
        "the envelope, the inbox row of each message, publishing the handler's message with a confirm and "
        "marking it sent, and the acks. Waiting messages are handled 32 to a transaction (`BUS_BATCH`), so the "
        "consumer can beat the one-transaction-a-message ceiling; the batched row of section 1 is the same "
        "database work done in the same batches with no broker, and the fair measure of what the bus adds. "
        "The no-op handler does no work of its own, like Celery's no-op task, but the consumer still writes "
        "its inbox row and commits; Celery touches no database at all.",
        "",
        "## 4. End to end",
        "",
        _e2e(r),
        "",
        image("end_to_end", "orders per second"),
        image("latency", "latency"),
        "Every order is a real checkout through the API (`POST /api/cart/checkout/`, gunicorn with 2 workers "
        "× 4 threads) by a customer made beforehand (`bench/seed.py`, not timed), and goes through all six "
        "consumers and the relay as real processes (`tests/e2e/shop.py`): order placed (and noted by the "
        "cart, which emptied itself at checkout), stock reserved, payment requested and charged, order confirmed, stock committed, the summary updated, the "
        "confirmation email written and noted on the order: 12 handled messages per order (with the stock "
        "change the cart's replica follows). Throughput is a "
        "closed loop of 16 clients, from the first checkout sent to the last confirmation email; latency is "
        "an open loop (arrivals at a fixed rate whatever the answers), from the checkout sent to the order's "
        "`confirmed` event, read afterwards from the orders database.",
        "",
        "## 5. Memory",
        "",
        _memory(r),
        "",
        image("memory", "memory"),
        "## 6. The peers: the same saga with Celery, the ceiling, and the shop in one process",
        "",
        _peers(r),
        "",
        "**The Celery saga** (`bench/celery_saga.py`) is the design a Django team would usually reach for: a "
        "checkout view taking the same request (`bench/celery_web.py`), which writes the checkout and, once "
        "that commits, sends the rest of the saga (the same writes as the shop's handlers, "
        "`bench/saga_writes.py`) as one Celery chain across six workers, one per app on its own queue, with "
        "acks late and persistent messages on the same RabbitMQ. It is measured like the shop: as many "
        "checkouts in a closed loop of 16 clients, then arrivals at the shop's fixed rate on the same started "
        "processes, read with the same probes. What it gives up for its simplicity, and the shop keeps: an "
        "outbox (the chain is published after the cart's commit, so a crash or an unreachable broker in "
        "between loses the order, and a step's next message goes out without a publisher confirm); an inbox "
        "(nothing records what a task has handled, so a redelivered task writes again or stops the chain on a "
        "unique key); retries and dead letters (a task that raises is acknowledged and its message is gone, "
        "with nothing to list or replay); compensation (a declined card or missing stock just ends the chain: "
        "no stock released, no refund, no cart restored, no email); and status guards (the steps count on "
        "running once and in the chain's order, where the shop's handlers take messages late, twice, out of "
        "order and on several copies of each consumer), with no message schemas or versions, no correlation "
        "ids and no tracing across the steps. The docstring of `bench/celery_saga.py` goes through each step.",
        "",
        "**The ceiling** (`bench/ceiling.py`) is the floor of the work itself: for each of the same customers, "
        "one process runs the checkout and every later write of the saga, thirteen transactions in the six "
        "SQLite databases, one after the other, with no HTTP, no broker, no outbox or inbox. What the shop "
        "costs above it is the price of its messages, its processes and its guarantees.",
        "",
        "**The shop in one process** (`bench/in_process.py`) is the shop's own code for each order with its "
        "transport taken away: for each of the same customers, one process sends the load generator's checkout "
        "(the same path, token, Idempotency-Key and body) through Django's whole stack with `django.test.Client` "
        "(the middleware chain, DRF and the view), then hands every outbox row the request and each handler "
        "committed, in the order committed, to each service subscribed to its type through that service's real "
        "consumer (`Consumer`: the delivery decoded and checked, the inbox rows, the handlers, one transaction "
        "each); once nothing is left to deliver, the next customer comes. The rows delivered are marked sent "
        "as a consumer's publisher marks them once the broker confirmed them, 64 of an outbox at a time. The "
        "consumer is the real one with one step replaced: the rows "
        "its deliveries committed go to this loop instead of to pika. It leaves out HTTP (sockets, parsing, "
        "gunicorn), the broker and all talking to it (publishing with confirms, consuming, acks), the relay, "
        "and the process switches and contention between the shop's processes; and each delivery is a "
        "transaction of its own, where a busy consumer takes the deliveries already waiting in one (marking "
        "the rows sent is timed apart in the table above). Its CPU per "
        "order is the part of the shop's CPU per order that is its own code; with RabbitMQ's own CPU per order "
        "from section 4 added, it is the floor the targets table sets beside issue 16's ≥ 100 and ≥ 150 "
        "orders/s. Run again on PostgreSQL, with the server's processes' CPU measured during it, it gives what "
        "the database alone adds to the same code with no transport in the way, the floor set beside the "
        "target of PostgreSQL at 0.9× SQLite.",
        "",
        "Each peer is measured once (as is the shop's end-to-end run it is compared with), so their ratios "
        "carry the run-to-run spread of the end-to-end figures; each starts from databases seeded like the "
        "shop's and ends with an audit of every database (the counts above).",
        "",
        "## 7. Cost as the data grows",
        "",
        _growth(r),
        "",
        image("growth", "cost as the data grows"),
        _growth_method(r),
        "",
        "## What was optimised, and what it bought",
        "",
        NOTES.read_text().strip() if NOTES.exists() else "",
        "",
        _baseline(r, baseline),
    ]
    return "\n".join(sections).rstrip() + "\n"


def write(results: dict, output: Path, baseline: dict | None = None) -> Path:
    folder = output / "benchmarks"
    folder.mkdir(parents=True, exist_ok=True)
    plots = {"throughput": plot_throughput(results, folder), "end_to_end": plot_end_to_end(results, folder),
             "latency": plot_latency(results, folder), "memory": plot_memory(results, folder),
             "growth": plot_growth(results, folder)}
    (folder / "results.json").write_text(json.dumps(results, indent=1, default=str))
    if baseline:
        (folder / "baseline.json").write_text(json.dumps(baseline, indent=1, default=str))
    page = output / "benchmarks.md"
    page.write_text(render(results, plots, baseline))
    return page
