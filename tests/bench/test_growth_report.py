"""The growth part's comparison: each history measured twice (short, long, long, short) is judged by its means."""

import dataclasses

from bench.common import Sizes
from bench.growth import order_of_runs
from bench.report.figures import growth_changes


def run(orders: int, per_second: float, p99_at_rate: float) -> dict:
    return {"database": "sqlite", "existing": {"orders": orders}, "per_second": per_second,
            "latency_ms": {"99": 1000.0}, "at_rate": {"rate": 15.0, "latency_ms": {"99": p99_at_rate}}}


def test_the_full_run_measures_each_history_twice_in_an_order_that_cancels_a_drift():
    full, smoke = Sizes.full(), Sizes.smoke()

    assert order_of_runs(full) == [(1_000, "first"), (200_000, "first"), (200_000, "second"), (1_000, "second")]
    assert order_of_runs(smoke) == [(50, ""), (200, "")]
    assert order_of_runs(dataclasses.replace(smoke, growth_twice=True))[0] == (50, "first")


def test_a_history_measured_twice_is_compared_by_its_means():
    # A machine slowing steadily: every run 10 orders/s slower than the one before, whatever its history.
    runs = [run(1_000, 120.0, 30.0), run(200_000, 110.0, 31.0), run(200_000, 100.0, 33.0), run(1_000, 90.0, 32.0)]

    [(database, change)] = growth_changes({"growth": {"runs": runs}}).items()

    assert database == "sqlite"
    assert (change["short"]["per_second"], change["long"]["per_second"]) == (105.0, 105.0)
    assert change["throughput"] == 0.0  # the first pair alone would say -8%, the second +11%
    assert round(change["rate_p99"], 3) == round(32.0 / 31.0 - 1, 3)


def test_the_cpu_an_order_at_the_fixed_rate_is_compared_by_its_means_where_every_run_kept_it():
    def costing(orders: int, ms: float) -> dict:
        measured = run(orders, 100.0, 30.0)
        measured["at_rate"]["cpu_ms_per_order"] = {"orders": ms / 2, "RabbitMQ": ms / 2}
        return measured

    runs = [costing(1_000, 20.0), costing(200_000, 23.0), costing(200_000, 25.0), costing(1_000, 22.0)]
    [(_, change)] = growth_changes({"growth": {"runs": runs}}).items()
    assert round(change["rate_cpu"], 3) == round(24.0 / 21.0 - 1, 3)

    # An older run's results, without it: no comparison rather than a wrong one.
    del runs[0]["at_rate"]["cpu_ms_per_order"]
    [(_, change)] = growth_changes({"growth": {"runs": runs}}).items()
    assert "rate_cpu" not in change
