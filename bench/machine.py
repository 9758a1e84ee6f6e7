"""What the numbers were measured on."""

from __future__ import annotations

import os
import platform
import socket
import sqlite3
import sys
import time
from importlib import metadata
from pathlib import Path

from .common import connect


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _ram_gib() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return 0.0


def _rabbitmq() -> str:
    try:
        connection = connect()
        version = connection._impl.server_properties.get("version", b"?")
        connection.close()
        return version.decode() if isinstance(version, bytes) else str(version)
    except Exception as exc:  # the report says so instead of failing
        return f"not reachable ({type(exc).__name__})"


def python_speed(steps: int = 2_000_000, rounds: int = 3) -> float:
    """Millions of steps per second of a plain Python loop on one core, the best of ``rounds``.

    The same machine type runs faster or slower from hour to hour (it shares
    its host), and every figure here moves with it. Read at the start and the
    end of a run, this says how fast the machine was while the run lasted, so
    two runs can be compared.
    """
    best = float("inf")
    for _ in range(rounds):
        started, total = time.perf_counter(), 0
        for n in range(steps):
            total += n & 7
        best = min(best, time.perf_counter() - started)
    return steps / best / 1e6


def load_average() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "?"


def describe() -> dict:
    from .end_to_end import postgres_version

    def version(package: str) -> str:
        try:
            return metadata.version(package)
        except metadata.PackageNotFoundError:
            return "not installed"

    return {
        "cpu": _cpu_model(), "cores": os.cpu_count(), "ram_gib": round(_ram_gib(), 1),
        "os": f"{platform.system()} {platform.release()}", "python": sys.version.split()[0],
        "django": version("Django"), "pika": version("pika"), "celery": version("celery"),
        "rabbitmq": _rabbitmq(), "sqlite": sqlite3.sqlite_version, "postgresql": postgres_version(),
    }


def round_trip_speed(trips: int = 20_000, rounds: int = 3) -> float:
    """Thousands of one-byte round trips a second between two processes over a socket pair, the best of ``rounds``.

    The shop's own work is mostly small messages between processes: every
    hop is a few system calls and a wake-up of another process, which a
    virtual machine may make dearer when its host is busy while a plain
    Python loop (``python_speed``) hardly changes. Read beside it, this
    helps tell the two kinds of slowness apart.
    """
    best = float("inf")
    for _ in range(rounds):
        ours, theirs = socket.socketpair()
        child = os.fork()
        if child == 0:  # the echo: answers every byte until the pair closes, and never returns
            try:
                ours.close()
                while theirs.recv(1):
                    theirs.send(b"x")
            finally:
                os._exit(0)
        theirs.close()
        started = time.perf_counter()
        for _ in range(trips):
            ours.send(b"x")
            ours.recv(1)
        best = min(best, time.perf_counter() - started)
        ours.close()
        os.waitpid(child, 0)
    return trips / best / 1000
