"""The growth part: the shops measured in turns, their blocks pooled; older runs (short, long, long, short) judged
by their means."""

from bench.common import Sizes
from bench.growth import pooled, round_order
from bench.report.figures import growth_changes


def run(orders: int, per_second: float, p99_at_rate: float) -> dict:
    return {"database": "sqlite", "existing": {"orders": orders}, "per_second": per_second,
            "latency_ms": {"99": 1000.0}, "at_rate": {"rate": 15.0, "latency_ms": {"99": p99_at_rate}}}


def test_the_shops_take_turns_forwards_then_backwards_so_a_steady_drift_weighs_on_each_alike():
    assert round_order([1_000, 200_000], 4) == [1_000, 200_000, 200_000, 1_000, 1_000, 200_000, 200_000, 1_000]
    assert round_order([1, 2, 3], 2) == [1, 2, 3, 3, 2, 1]
    # A machine slowing steadily, one unit a block: each history's blocks add up to the same.
    order = round_order([1_000, 200_000], Sizes.full().growth_rounds)
    slowing = {orders: sum(n for n, o in enumerate(order) if o == orders) for orders in (1_000, 200_000)}
    assert slowing[1_000] == slowing[200_000]


def block(emailed: int, seconds: float, latencies: list[float], cpu_ms: float) -> dict:
    return {"orders": emailed, "emailed": emailed, "seconds": seconds, "per_second": emailed / seconds,
            "latencies_ms": latencies, "email_latencies_ms": [ms + 5 for ms in latencies],
            "placed_latencies_ms": [ms / 2 for ms in latencies],
            "cpu_ms_per_order": {"orders": cpu_ms, "RabbitMQ": cpu_ms / 2}}


def test_a_shops_blocks_are_pooled_over_all_their_orders_and_all_their_time():
    fast = block(100, 1.0, [10.0] * 100, 20.0)
    slow = block(100, 4.0, [30.0] * 97 + [400.0, 450.0, 500.0], 40.0)  # its own p99 alone: 500

    together = pooled([fast, slow])

    assert together["per_second"] == 200 / 5.0  # not the mean of 100/s and 25/s
    assert together["blocks_per_second"] == [100.0, 25.0]
    assert (together["orders"], together["emailed"], together["seconds"]) == (200, 200, 5.0)
    assert together["latency_ms"]["50"] == 10.0 and together["latency_ms"]["99"] == 400.0  # the 198th of 200
    assert together["latency_ms"]["max"] == 500.0
    assert together["email_latency_ms"]["99"] == 405.0 and together["placed_latency_ms"]["99"] == 200.0
    assert together["cpu_ms_per_order"] == {"orders": 30.0, "RabbitMQ": 15.0}  # weighted by each block's orders


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
