"""Gunicorn's configuration for the web process: ``gunicorn -c python:shopsite.gunicorn_config shopsite.wsgi``.

It puts prometheus-client in multiprocess mode, so that ``/metrics`` adds up
every worker's counts (a scrape reaches one worker only). Each worker writes
its values to files in ``PROMETHEUS_MULTIPROC_DIR``: that directory is
emptied as gunicorn starts (files of an earlier run would be counted again),
and a worker that exits is marked dead so its live gauges leave the sum.
Without ``PROMETHEUS_MULTIPROC_DIR`` a directory of this run's own is made,
and removed at exit.

Everything else is given on the command line (Procfile).
"""

import os
import shutil
import tempfile
from pathlib import Path

# Before prometheus_client is imported anywhere: it picks its way of storing values at import.
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="shop-prometheus-")
    _made_here = True
else:
    _made_here = False

_directory = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])


def on_starting(server):
    _directory.mkdir(parents=True, exist_ok=True)
    for leftover in _directory.glob("*.db"):
        leftover.unlink()


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    if _made_here:
        shutil.rmtree(_directory, ignore_errors=True)
