"""``python -m bench.held_rows`` measures both ways of writing a transaction's rows, and they send what they say."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_held_rows_go_in_one_statement_where_each_row_went_in_its_own():
    run = subprocess.run([sys.executable, "-m", "bench.held_rows", "--transactions", "20", "--rounds", "2"],
                         cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    kinds = json.loads(run.stdout.strip().splitlines()[-1])["kinds"]

    assert kinds["one statement a row"]["statements_a_transaction"] == 3  # a line, an event, an outbox row
    assert kinds["held, one statement"]["statements_a_transaction"] == 1
    for figures in kinds.values():
        assert figures["client_cpu_us"] > 0 and figures["wall_us"] > 0 and figures["server_cpu_us"] >= 0
