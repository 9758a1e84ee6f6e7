"""What some tests need from outside the Python environment: a system program (promtool), or a package of
the npm registry (an official schema, a validator) fetched into the user's cache, never into the repository.

When it cannot be had, the test is skipped on a developer's machine and fails in CI (``CI`` set), where
bin/test installs everything.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import NoReturn

import pytest

CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "shop"


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() not in ("", "0", "false")


def unavailable(message: str) -> NoReturn:
    if in_ci():
        pytest.fail(message)
    pytest.skip(message)


def npm_package(package: str, version: str, *, what: str, needs_node: bool = False) -> Path:
    """The folder whose ``node_modules`` holds ``package`` at ``version``, installed there once.

    ``what`` names what the package is for, in the message when it cannot be fetched.
    """
    folder = CACHE / f"{package.lstrip('@').replace('/', '-')}-{version}"
    if (folder / "node_modules" / package).exists():
        return folder
    npm = shutil.which("npm")
    if npm is None or (needs_node and shutil.which("node") is None):
        unavailable(f"{what} could not be fetched: npm is not installed (e.g. `sudo apt-get install npm`)")
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f"{folder.name}-", dir=folder.parent))
    installed = subprocess.run(
        [npm, "install", "--prefix", str(staging), "--no-audit", "--no-fund", "--ignore-scripts", "--no-save",
         "--loglevel=error", f"{package}@{version}"],
        capture_output=True, text=True, timeout=300,
    )
    if installed.returncode != 0:
        shutil.rmtree(staging, ignore_errors=True)
        unavailable(f"{what} could not be fetched: `npm install {package}@{version}` failed:\n"
                    f"{installed.stderr[-2000:]}")
    try:
        staging.rename(folder)  # whole or not at all: another worker may be installing it beside us
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)
    return folder
