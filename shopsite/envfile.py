"""A new installation's ``.env``: ``python -m shopsite.envfile``, run by bin/run-shop from the project folder.

It runs before anything reads the settings, which need ``BUS_DEPLOYMENT``.
Each installation gets a random deployment of its own, once: two shops
started from two clones onto one broker must never share one (see
shopsite/bus/deployment.py). Django-free on purpose.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
from pathlib import Path


def prepare(env_file: Path, example: Path) -> None:
    """Copy ``example`` to ``env_file`` if there is none; give it a deployment if it has none."""
    if not env_file.exists():
        shutil.copyfile(example, env_file)
    text = env_file.read_text()
    if "BUS_DEPLOYMENT" in os.environ or re.search(r"^BUS_DEPLOYMENT=", text, re.MULTILINE):
        return
    separator = "" if text.endswith("\n") or not text else "\n"
    env_file.write_text(
        f"{text}{separator}\n# This installation's name on the broker, chosen at random on the first run.\n"
        f"BUS_DEPLOYMENT=shop-{secrets.token_hex(4)}\n"
    )


if __name__ == "__main__":
    prepare(Path(".env"), Path(".env.example"))
