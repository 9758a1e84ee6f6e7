"""Fault injection for the reliability suite, switched on only by BUS_FAULTS.

``BUS_FAULTS`` is a comma-separated list of ``<kind>:<handler key>[=<arg>]``:
``raise:orders.place-order`` makes that handler raise, ``crash:…`` kills
the whole process (as a segfault or an OOM kill would) and
``slow:…=40`` makes it sleep that many seconds first. Handlers are named by
their inbox keys (``HANDLERS`` in each service's handlers module), so a
fault keeps its target when the function is renamed.
"""

from __future__ import annotations

import os
import time

from django.conf import settings

from .handlers import KEY_PATTERN

KINDS = ("raise", "crash", "slow")


class InjectedFault(RuntimeError):
    pass


def parse(spec: str) -> dict[str, tuple[str, str]]:
    """``{handler key: (kind, argument)}``; ValueError for an item that is not ``<kind>:<handler key>[=<arg>]``."""
    faults = {}
    for item in filter(None, (part.strip() for part in spec.split(","))):
        kind, _, target = item.partition(":")
        handler, _, argument = target.partition("=")
        if kind not in KINDS or not KEY_PATTERN.fullmatch(handler):
            raise ValueError(f"{item!r} is not <{'|'.join(KINDS)}>:<handler key>[=<argument>]")
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
