"""Python run in a fresh interpreter from the repository's root, answering with its last line of JSON.

For what a process decides at start-up from its environment (settings, tracing), which the test's own
process has long done.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def answer(code: str, env: dict[str, str]) -> dict:
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])
