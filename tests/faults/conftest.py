import json
import uuid
from dataclasses import asdict
from pathlib import Path

import pytest

from tests.conftest import delete_topology
from shopsite.bus.names import Names
from tests.e2e.shop import Shop

from .harness import RESULTS, FaultRun

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture
def fault_run(tmp_path):
    """Start a whole shop with the given environment; stopped and cleaned up after the test."""
    shops = []

    def start(extra_env: dict[str, str] | None = None, copies: int = 1) -> FaultRun:
        shop = Shop(tmp_path / f"shop{len(shops)}", extra_env)
        shop.workdir.mkdir()
        shops.append(shop)
        shop.up(copies=copies)
        password = "staff-" + uuid.uuid4().hex
        shop.manage("load_demo", "--password", password, "--products", "0")
        token = shop.call("POST", "/api/accounts/token/",
                          json={"email": "staff@shop.test", "password": password}).json()["token"]
        return FaultRun(shop, token)

    yield start
    for shop in shops:
        shop.down()
        delays = [float(d) for d in shop.env["BUS_RETRY_DELAYS"].split(",")]
        delete_topology(Names(shop.env["BUS_PREFIX"]), delays)


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
