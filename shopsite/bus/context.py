"""Which message (or request) the current code runs on behalf of.

The consumer sets it around each handler so that every message a handler
records carries the flow's correlation id and names its cause, without the
handlers passing ids around.
"""

from __future__ import annotations

import contextlib
import uuid
from contextvars import ContextVar
from typing import Iterator

from shopsite.ids import uuid7

from .envelope import Envelope

_current: ContextVar[Envelope | None] = ContextVar("shop_bus_current", default=None)


def current() -> Envelope | None:
    return _current.get()


@contextlib.contextmanager
def handling(envelope: Envelope) -> Iterator[None]:
    token = _current.set(envelope)
    try:
        yield
    finally:
        _current.reset(token)


def ids_for_new_message(correlation_id: uuid.UUID | None) -> tuple[uuid.UUID, uuid.UUID | None]:
    cause = current()
    if correlation_id is None:
        correlation_id = cause.correlation_id if cause else uuid7()
    return correlation_id, (cause.id if cause else None)
