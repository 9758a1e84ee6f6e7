"""Cost as the data grows (issue 16, point 5): the end-to-end run on a small and on a long history.

``python -m bench.growth`` starts, on each ``--database``, one shop for each
``--orders`` history (with ``--products`` products and ``--customers``
customers), all at once, and measures them in turns (``measure``): the closed
loop of ``--checkouts`` orders each, then ``--rate`` checkouts a second for
``--seconds`` each, both in ``--rounds`` blocks that alternate between the
shops. It writes the results as JSON (bench/grow_plot.py draws them).
``python -m bench`` runs the same measurement as its part "growth" (``run_all``),
at the sizes of its run.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from contextlib import ExitStack
from pathlib import Path

from . import machine
from .common import ROOT, Sizes, remove_temp_dirs, retrying
from .end_to_end import measured, percentiles, started_shop
from .grow import Existing


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def round_order(histories: list[int], rounds: int) -> list[int]:
    """The histories in the order their blocks run: forwards, then backwards, round after round (short, long,
    long, short, …), so that a drift of the machine's speed in a straight line weighs on each alike."""
    return [orders for n in range(rounds) for orders in (histories if n % 2 == 0 else histories[::-1])]


def pooled(blocks: list[dict]) -> dict:
    """One shop's blocks of a phase (``end_to_end.measured`` with ``raw``) as one phase: its orders, rate,
    percentiles over every order and CPU an order over all of them; each block's rate kept as well."""
    emailed, seconds = sum(b["emailed"] for b in blocks), sum(b["seconds"] for b in blocks)
    cpu: dict[str, float] = defaultdict(float)
    for block in blocks:
        for name, ms in block["cpu_ms_per_order"].items():
            cpu[name] += ms * block["emailed"]
    confirmed = [ms for block in blocks for ms in block["latencies_ms"]]
    return {"orders": sum(b["orders"] for b in blocks), "emailed": emailed, "seconds": seconds,
            "per_second": emailed / seconds if seconds else 0.0,
            "latency_ms": percentiles(confirmed) | {"max": max(confirmed, default=0)},
            "email_latency_ms": percentiles([ms for block in blocks for ms in block["email_latencies_ms"]]),
            "placed_latency_ms": percentiles([ms for block in blocks for ms in block["placed_latencies_ms"]]),
            "cpu_ms_per_order": {name: ms / emailed for name, ms in cpu.items()} if emailed else {},
            "blocks_per_second": [b["per_second"] for b in blocks]}


def measure(*, histories: list[int], database: str, checkouts: int, products: int, customers: int, rate: float,
            seconds: float, rounds: int = 1, warmup: int = 0, step=_stderr) -> list[dict]:
    """A shop for each of ``histories`` (past orders), all started together and measured in turns; a result
    for each history, in the order given.

    First ``warmup`` checkouts on each shop, not counted: in every sequence of runs measured one shop after
    another, the first run cost the most CPU an order. Then ``checkouts`` on each in a closed loop, in
    ``rounds`` blocks in the order of ``round_order``, then ``rate`` checkouts a second for ``seconds`` on
    each, in as many windows in the same order. The machine's speed drifts by more than 10% within minutes
    (a history's two runs, minutes apart, have differed by 10-17%); blocks of a few seconds
    taken in turns see the same machine, where whole runs one after another did not. The shops not being
    measured idle meanwhile (a few ms of CPU a second each), alike for every history.

    The fixed-rate CPU an order compares the histories' work an order more steadily than the closed loop's:
    at a rate every history handles with room to spare the batches are about the same size whatever the
    history. No rate sweep follows (section 4 has it).
    """
    block, window = checkouts // rounds, seconds / rounds
    wanted = warmup + block * rounds + int(rate * window) * rounds
    turns = round_order(list(range(len(histories))), rounds)  # by position: a history may be given twice
    with ExitStack() as stack:
        shops = [stack.enter_context(started_shop(
            step, f"{database}, {orders:,} past orders", customers=wanted, database=database,
            existing=Existing(orders=orders, products=products, customers=customers))) for orders in histories]
        if warmup:
            step(f"growth ({database}): {warmup} checkouts on each shop, not counted")
            for shop, load, _ in shops:
                measured(shop, load, lambda load=load: load.closed_loop(warmup), expected=warmup)
        # How fast the machine is just before the shops are measured (the table shows it beside each run).
        speed = machine.python_speed()

        def in_turns(run, expected: int) -> list[list[dict]]:
            """Each shop's blocks of ``run(load)``, the shops taking turns."""
            blocks: list[list[dict]] = [[] for _ in histories]
            for n in turns:
                shop, load, _ = shops[n]
                blocks[n].append(measured(shop, load, lambda load=load: run(load), expected=expected, raw=True))
            return blocks

        step(f"growth ({database}): {checkouts} checkouts on each shop, closed loop, in {rounds} turns")
        closed = in_turns(lambda load: load.closed_loop(block), block)
        step(f"growth ({database}): {rate:g} orders/s for {seconds:g} s on each shop, in {rounds} turns")
        at_rate = in_turns(lambda load: load.open_loop(rate, window), int(rate * window))
    # Leaving the block stopped the shops and counted what each refused.
    results = []
    for n, (_, _, shop_result) in enumerate(shops):
        throughput, fixed = pooled(closed[n]), pooled(at_rate[n])
        results.append({"database": database, "existing": shop_result["existing"],
                        "rounds": rounds, "warmup": warmup, "python_speed": speed,
                        "refused": shop_result["refused"], "refusals": shop_result["refusals"],
                        **{key: throughput[key] for key in ("per_second", "latency_ms", "email_latency_ms",
                                                            "placed_latency_ms", "emailed", "orders",
                                                            "cpu_ms_per_order", "blocks_per_second")},
                        "at_rate": {"rate": rate, "seconds": window * rounds,
                                    **{key: fixed[key] for key in ("orders", "emailed", "latency_ms",
                                                                   "cpu_ms_per_order")}}})
    return results


def steps(sizes: Sizes) -> int:
    """How many progress steps ``run_all`` takes: each shop's three (history, start, customers), the warm-up's,
    the closed loop's and the fixed rate's, on each database."""
    return (3 * len(sizes.growth_orders) + bool(sizes.growth_warmup) + 2) * (1 + sizes.e2e_postgres)


def run_all(sizes: Sizes, step) -> dict:
    """``python -m bench``'s part: each database with the short and the long history of ``sizes``."""
    databases = ["sqlite", "postgresql"] if sizes.e2e_postgres else ["sqlite"]
    runs = [run for database in databases
            for run in retrying(f"growth, {database}", lambda database=database: measure(
                histories=list(sizes.growth_orders), database=database, checkouts=sizes.growth_checkouts,
                products=sizes.growth_products, customers=sizes.growth_customers, rate=sizes.growth_rate,
                seconds=sizes.growth_rate_seconds, rounds=sizes.growth_rounds, warmup=sizes.growth_warmup,
                step=step))]
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
    parser.add_argument("--rounds", type=int, default=full.growth_rounds,
                        help="blocks each shop's closed loop and fixed rate are cut into, taken in turns")
    parser.add_argument("--warmup", type=int, default=full.growth_warmup,
                        help="checkouts on each shop before the measured ones, not counted")
    parser.add_argument("--label", default="", help="what this run measures (e.g. 'before indexes')")
    parser.add_argument("--output", type=Path, default=ROOT / "docs" / "benchmarks" / "growth.json",
                        help="results are added to this file's runs")
    args = parser.parse_args()
    results = json.loads(args.output.read_text()) if args.output.exists() else {"runs": []}
    try:
        for database in args.database.split(","):
            runs = measure(histories=[int(n) for n in args.orders.split(",")], database=database,
                           checkouts=args.checkouts, products=args.products, customers=args.customers,
                           rate=args.rate, seconds=args.seconds, rounds=args.rounds, warmup=args.warmup)
            for run in runs:
                run.update(label=args.label, at=time.strftime("%Y-%m-%d %H:%M"))
                results["runs"].append(run)
                print(f"{database}, {run['existing']['orders']:,} orders: {run['per_second']:.1f} orders/s "
                      f"(blocks {', '.join(f'{r:.1f}' for r in run['blocks_per_second'])}), "
                      f"p99 at {args.rate:g}/s {run['at_rate']['latency_ms']['99']:.0f} ms", file=sys.stderr, flush=True)
            args.output.parent.mkdir(parents=True, exist_ok=True)
            args.output.write_text(json.dumps(results, indent=1))
    finally:
        remove_temp_dirs()


if __name__ == "__main__":
    main()
