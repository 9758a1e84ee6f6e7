import json
import uuid
from dataclasses import asdict
from pathlib import Path

import pytest

from tests.conftest import delete_topology
from shopsite.bus.names import Names
from tests.e2e.shop import PostgresDatabases, Shop

from .harness import RESULTS, FaultRun, broker_connection

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture
def fault_run(tmp_path):
    """Start a whole shop with the given environment; stopped and cleaned up after the test.

    ``fault_run.stop_all()`` stops the shops early (a fixture whose cleanup needs them gone calls it).
    """
    shops, runs = [], []

    def start(extra_env: dict[str, str] | None = None, copies: int = 1) -> FaultRun:
        shop = Shop(tmp_path / f"shop{len(shops)}", extra_env)
        shop.workdir.mkdir()
        shops.append(shop)
        shop.up(copies=copies)
        password = "staff-" + uuid.uuid4().hex
        shop.manage("load_demo", "--password", password, "--products", "0")
        token = shop.call("POST", "/api/accounts/token/",
                          json={"email": "staff@shop.test", "password": password}).json()["token"]
        runs.append(FaultRun(shop, token, password))
        return runs[-1]

    def stop_all() -> None:
        for run in runs:
            run.close()
        for shop in shops:
            shop.down()

    start.stop_all = stop_all
    yield start
    stop_all()
    for shop in shops:
        delays = [float(d) for d in shop.env["BUS_RETRY_DELAYS"].split(",")]
        delete_topology(Names(shop.env["BUS_PREFIX"]), delays, connection=broker_connection(shop.env))


@pytest.fixture
def postgres_databases():
    """One fresh PostgreSQL database per service (copies of migrated ones), dropped afterwards."""
    with PostgresDatabases("shop", migrated=True) as urls:
        yield urls


@pytest.fixture
def on_cluster(rabbit_cluster, fault_run):
    """The production topology for ``fault_run``: the three nodes of the session's cluster, quorum queues,
    every service on PostgreSQL.

    Afterwards the shop is stopped, every node a scenario stopped or killed is
    brought back (so its queues can be deleted and the next scenario starts
    with three), and the databases dropped.
    """
    with PostgresDatabases("cluster", migrated=True) as urls:
        yield {"BUS_URL": rabbit_cluster.bus_url(), "BUS_QUEUE_TYPE": "quorum", **urls}
        fault_run.stop_all()
        rabbit_cluster.heal()


@pytest.fixture(params=["broker", pytest.param("cluster", marks=[pytest.mark.cluster, pytest.mark.cluster_faults])])
def topology(request) -> dict[str, str]:
    """The scenario's extra environment: the single broker (SQLite), then the cluster (quorum, PostgreSQL)."""
    return request.getfixturevalue("on_cluster") if request.param == "cluster" else {}


COLUMNS = ["scenario", "orders", "faults", "redelivered", "duplicates_absorbed", "dead_lettered", "lost",
           "double_charges", "recovery_seconds"]


def table() -> str:
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for result in RESULTS:
        row = asdict(result)
        lines.append("| " + " | ".join(str(row[c]) for c in COLUMNS) + " |")
    return "\n".join(lines)


def pytest_terminal_summary(terminalreporter):
    if not RESULTS:
        return
    terminalreporter.write_sep("=", "reliability")
    terminalreporter.write_line(table())
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "reliability.md").write_text(table() + "\n")
    (ARTIFACTS / "reliability.json").write_text(json.dumps([asdict(r) for r in RESULTS], indent=2))
