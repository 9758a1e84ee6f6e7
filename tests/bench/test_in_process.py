"""``python -m bench.in_process --statement-texts``: the run's figures and the file of statements agree."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.broker, pytest.mark.e2e]  # seeding runs the relay and consumers on the real broker


def test_statement_texts_are_written_beside_the_runs_own_figures(tmp_path):
    texts_file = tmp_path / "statements.json"
    orders = 3
    run = subprocess.run([sys.executable, "-m", "bench.in_process", "--orders", str(orders),
                          "--statement-texts", str(texts_file)], cwd=ROOT, capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    result = json.loads(run.stdout.strip().splitlines()[-1])

    # The run's own duration, not the statements' times by service (a dict, which the rate divided by).
    assert isinstance(result["seconds"], float) and result["seconds"] > 0
    assert result["per_second"] == pytest.approx(orders / result["seconds"])
    texts = json.loads(texts_file.read_text())
    assert sorted(texts) == sorted(result["statements_by_database"])
    for service, statements in texts.items():
        assert sum(s["per_order"] for s in statements.values()) == \
            pytest.approx(result["statements_by_database"][service]), service
        assert all(s["ms_per_order"] >= 0 for s in statements.values())
