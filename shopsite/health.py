"""Probes for an orchestrator: is the process up, and can it do its work?

The web answers ``/healthz`` and ``/readyz``; ``manage.py healthcheck`` asks
the same of any process (the image's HEALTHCHECK, Kubernetes' exec probes).
"""

from __future__ import annotations

import os
from pathlib import Path

from django.db import DatabaseError, connections
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET

from shopsite import metrics
from shopsite.bus.connection import broker_answers
from shopsite.bus.consumer import ready_files


@require_GET
def healthz(request):
    return JsonResponse({"status": "ok"})


@require_GET
def readyz(request):
    checks = dependency_checks()
    ready = all(checks.values())
    return JsonResponse({"status": "ready" if ready else "not ready", "checks": checks}, status=200 if ready else 503)


class ProbeMiddleware:
    """Answer the probes, and the metrics, before anything reads the Host header.

    The kubelet and Docker probe the process by its pod's or its container's
    address, a name that is not in DJANGO_ALLOWED_HOSTS: CommonMiddleware
    would answer 400 and the orchestrator would take a healthy process for a
    dead one. Prometheus scrapes a pod by its address too. None of them shows
    anything that depends on the host asked for (the metrics are judged by the
    caller's own address, ``METRICS_ALLOWED_ADDRESSES``).
    """

    PROBES = {"/healthz": healthz, "/readyz": readyz, "/metrics": metrics.view}

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        probe = self.PROBES.get(request.path_info)
        return probe(request) if probe else self.get_response(request)


def dependency_checks() -> dict[str, bool]:
    """Every database and the broker: what the web and the relay need to do any work."""
    checks = {f"database:{alias}": _database_answers(alias) for alias in connections}
    checks["broker"] = broker_answers()
    return checks


def consumer_consuming(service: str) -> bool:
    """A live process of this service holds its ready file: connected, subscribed, consuming.

    The file names its process; one left behind by a process that was killed
    (SIGKILL leaves no time to remove it) names a dead one and counts for nothing.
    """
    return any(_process_alive(pid) for pid in ready_files(service).values())


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, run by another user
        return True
    return True


def container_process(cmdline: Path = Path("/proc/1/cmdline")) -> str | None:
    """The Procfile name of the process a container runs (its PID 1), or None if it is none of them."""
    try:
        words = [word for word in cmdline.read_bytes().decode(errors="replace").split("\0") if word]
    except OSError:
        return None
    for word in words:
        if Path(word).name == "gunicorn":
            return "web"
        if word == "relay":
            return "relay"
        if word.startswith("consume_"):
            return word.removeprefix("consume_")
    return None


def _database_answers(alias: str) -> bool:
    try:
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        return False
    return True
