"""The floors the report sets beside issue 16's targets that a run did not meet, worked out from its measurements.

The smoke run (tests/bench/test_smoke.py) has no PostgreSQL, so the PostgreSQL floor is checked here on the
figures a full run records.
"""

import pytest

from bench.report.figures import cpu_floor, postgresql_floor, round_two_targets


def results(*, sqlite_e2e: dict, in_process: float, in_process_pg: tuple[float, float] | None) -> dict:
    peers = {"in_process": {"cpu_ms_per_order": in_process}}
    if in_process_pg:
        peers["in_process_postgresql"] = {"cpu_ms_per_order": in_process_pg[0],
                                          "server_cpu_ms_per_order": in_process_pg[1]}
    return {"e2e": {"sqlite": {"throughput": {"per_second": 50.0}, "cpu_ms_per_order": sqlite_e2e},
                    "postgresql": {"throughput": {"per_second": 30.0},
                                   "latency": {"rate": 50.0, "latency_ms": {"99": 5000.0}}}},
            "peers": peers}


def test_postgresql_floor_caps_the_ratio_at_what_the_database_alone_adds():
    r = results(sqlite_e2e={"orders": 20.0, "RabbitMQ": 5.0, "web worker 1": 15.0}, in_process=15.0,
                in_process_pg=(22.0, 9.0))

    floor = postgresql_floor(r)

    # The same code costs 31 ms on PostgreSQL (22 + the server's 9) against 15: 16 ms more an order. An order
    # costing the SQLite run's 40 ms plus those 16 runs at most 40 / 56 of SQLite's rate.
    assert floor["extra"] == pytest.approx(16.0)
    assert floor["best_ratio"] == pytest.approx(40 / 56)
    assert floor["allowed_extra"] == pytest.approx(40 / 0.9 - 40)
    row = next(row for row in round_two_targets(r) if row[0].startswith("orders/s on PostgreSQL"))
    assert "16.0 ms more where 0.9× allows 4.4: at best 0.71×" in row[2], row
    assert row[3] is False


def test_no_postgresql_floor_without_the_run_on_postgresql():
    r = results(sqlite_e2e={"orders": 20.0, "RabbitMQ": 5.0}, in_process=15.0, in_process_pg=None)

    assert postgresql_floor(r) == {}
    row = next(row for row in round_two_targets(r) if row[0].startswith("orders/s on PostgreSQL"))
    assert "the floor" not in row[2]


def test_the_sqlite_floor_is_the_shops_own_code_and_the_brokers_cpu():
    r = results(sqlite_e2e={"orders": 20.0, "RabbitMQ": 5.0, "RabbitMQ 2": 1.0}, in_process=15.0, in_process_pg=None)

    assert cpu_floor(r) == {"own": 15.0, "broker": 6.0, "total": 21.0}
    row = next(row for row in round_two_targets(r) if row[0].startswith("≥ 100 orders/s"))
    assert "= 21.0 ms" in row[2] and "20.0 ms two cores allow" in row[2], row


def test_the_statements_per_order_are_reported_for_each_database_the_peer_ran_on():
    from bench.report.page import _statements

    sqlite = {"database": "sqlite", "statements_per_order": 77.1,
              "statements_by_database": {"accounts": 9.0, "orders": 21.04}}
    postgresql = {"database": "postgresql", "statements_per_order": 64.1,
                  "statements_by_database": {"accounts": 7.0, "orders": 17.04}}

    text = _statements(sqlite, postgresql)

    assert "on SQLite 77.1 (accounts 9.0, orders 21.0); on PostgreSQL 64.1 (accounts 7.0, orders 17.0)" in text
    assert _statements({"database": "sqlite"}) == ""  # a run from before they were counted
