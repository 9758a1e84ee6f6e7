"""Gunicorn's configuration for the web process: ``gunicorn shopsite.wsgi --config python:shopsite.gunicorn_config``.

Metrics: it puts prometheus-client in multiprocess mode, so that ``/metrics``
adds up every worker's counts (a scrape reaches one worker only). Each worker
writes its values to files in ``PROMETHEUS_MULTIPROC_DIR``: that directory is
emptied as gunicorn starts (files of an earlier run would be counted again),
and a worker that exits is marked dead so its live gauges leave the sum.
Without ``PROMETHEUS_MULTIPROC_DIR`` a directory of this run's own is made,
and removed at exit.

Logs: with ``LOG_FORMAT=json`` gunicorn writes its own lines, the access log
among them, through the shop's logging settings, so they are JSON lines like
every other; otherwise it keeps its own format. In both, a token in a URL (the
password reset link's) is written as ``[token]``.

Everything else is given on the command line (Procfile).
"""

import logging
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

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shopsite.settings")

from django.conf import settings  # noqa: E402  (after the multiprocess directory is chosen)

from shopsite import jsonlogs  # noqa: E402

# The master and, forked from it, its workers (told apart by their pid).
jsonlogs.identify(service="web", process="gunicorn")
if settings.LOG_FORMAT == "json":
    logconfig_dict = settings.LOGGING
else:
    logging.getLogger("gunicorn.access").addFilter(jsonlogs.HideUrlTokens())


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
