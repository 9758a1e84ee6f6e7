"""Fault injection for the reliability suite, switched on only by BUS_FAULTS.

``BUS_FAULTS`` is a comma-separated list of ``<kind>:<handler>[=<arg>]``:
``raise:orders.handlers.place_order`` makes that handler raise, ``crash:…``
kills the whole process (as a segfault or an OOM kill would) and
``slow:…=40`` makes it sleep that many seconds first. Handlers are named as
in the inbox table (module and function name).
"""

from __future__ import annotations

import os
import time

from django.conf import settings


class InjectedFault(RuntimeError):
    pass


def parse(spec: str) -> dict[str, tuple[str, str]]:
    faults = {}
    for item in filter(None, (part.strip() for part in spec.split(","))):
        kind, _, target = item.partition(":")
        handler, _, argument = target.partition("=")
        faults[handler] = (kind, argument)
    return faults


def inject(handler: str) -> None:
    spec = settings.BUS["FAULTS"]
    if not spec:
        return
    kind, argument = parse(spec).get(handler, ("", ""))
    if kind == "raise":
        raise InjectedFault(f"injected failure in {handler}")
    if kind == "crash":
        os._exit(70)
    if kind == "slow":
        time.sleep(float(argument or 1))
