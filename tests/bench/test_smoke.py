"""The benchmark suite keeps working: its smoke size runs end to end and writes a report with plots.

The benchmark is not a test of speed (CI machines vary); this only checks
that every measurement ran and produced numbers.
"""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.broker, pytest.mark.e2e]


def test_the_smoke_run_writes_the_report_and_its_plots(tmp_path):
    result = subprocess.run([sys.executable, "-m", "bench", "--smoke", "--output", str(tmp_path)], cwd=ROOT,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]

    page = (tmp_path / "benchmarks.md").read_text()
    for heading in ["## The machine", "## Targets", "## 1. The limits", "## 2 and 3. Celery and our bus",
                    "## 4. End to end", "## 5. Memory"]:
        assert heading in page
    for plot in ["throughput", "end_to_end", "latency", "memory"]:
        path = tmp_path / "benchmarks" / f"{plot}.png"
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", plot
        assert f"(benchmarks/{plot}.png)" in page

    results = json.loads((tmp_path / "benchmarks" / "results.json").read_text())
    for key in ["publish_one_by_one", "publish_batched", "consume", "db_ceiling", "celery", "relay", "consumer"]:
        assert results[key]["per_second"] > 0, key
    assert results["relay"]["unsent"] == 0 and results["relay"]["in_queue"] == results["relay"]["messages"]
    assert results["consumer"]["inbox"] == results["consumer"]["messages"]
    run = results["e2e"]["sqlite"]
    assert run["throughput"]["per_second"] > 0 and run["throughput"]["emailed"] == run["throughput"]["orders"]
    assert run["latency"]["latency_ms"]["99"] > 0
    assert all(rss > 0 for name, rss in run["rss_kib"].items())
    bold = [float(n.replace(",", "")) for n in re.findall(r"\*\*([\d,.]+)\*\*", page)]
    assert bold and all(n > 0 for n in bold)
