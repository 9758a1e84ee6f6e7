"""Publishing after commit without making the committing thread wait for the broker.

A web request that recorded outbox messages answers as soon as its
transaction has committed: each committed row is handed to the process's
background publisher, one daemon thread with a bounded queue, which publishes
the rows at once and, as a consumer does, collects their confirms and marks
them sent for many rows together: when ``SETTLE_EVERY`` rows wait for that,
or the oldest was sent ``SETTLE_AFTER`` ago (publisher.py). A checkout a
moment after another then costs no wait for its confirm and no UPDATE of its
own. The request never connects to the
broker and never waits for a confirm, so a broker that is down, stalled, or
blocking its publishers (a memory or disk alarm) costs it nothing. On a
healthy broker the row leaves a moment after the commit, as before.

What the thread cannot publish at once stays unsent in its outbox, and the
relay's sweep publishes it: a row handed over while the queue is full, a row
already ``SEND_WITHIN`` old when the thread gets to it (the thread was stuck
on a broker that did not answer), a row whose confirm is not back within
``CONFIRM_WAIT`` (the publisher then drops the connection and pauses).

The sweep never takes a row younger than ``WRITER_OWNS`` (publisher.py), and
the thread sends a row only while it is younger than ``SEND_WITHIN``, starts
collecting its confirm at most ``SETTLE_AFTER`` later and waits for it at most
``CONFIRM_WAIT``; the three add up to less, so the thread is done with a row
before the sweep may take it: one row is not published by both, except when
marking it sent is itself held up that long.

Consumers do not hand their rows over: a consumer publishes what its handlers
recorded on its own thread, and collects the confirms of many deliveries at
once (consumer.py). Nobody waits on a consumer's answer, and a consumer that
waits on a slow broker is the back-pressure the broker asks for.

The thread is a daemon: a worker that exits (gunicorn's SIGTERM, the end of a
management command) gives it ``DRAIN_AT_EXIT`` to publish what it holds, then
leaves the rest to the relay.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
from collections import deque

from django.conf import settings
from django.db import close_old_connections
from django.utils import timezone

from .models import OutboxMessage
from .names import Names
from .publisher import Publisher, Row

log = logging.getLogger(__name__)

#: A row older than this when its turn comes is left to the relay.
SEND_WITHIN = 0.9
#: How long the thread waits for the confirms of what it sent before it gives the connection up.
CONFIRM_WAIT = 0.75
#: How long an exiting process waits for the thread to publish what it holds.
DRAIN_AT_EXIT = 1.0
#: Rows published together, with one wait for their confirms.
BATCH = 500
#: Seconds between two log lines about rows left to the relay.
REPORT_EVERY = 10.0


class BackgroundPublisher:
    """A thread that publishes the rows handed to it; ``hand_over`` never blocks."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.pid = os.getpid()
        self._rows: deque[Row] = deque()
        self._in_hand = 0  # rows taken from the queue or sent, not yet settled
        self._draining = False
        self._changed = threading.Condition()
        self._left: dict[str, int] = {}  # rows left to the relay since the last report, by reason
        self._reported = 0.0
        self._publisher: Publisher | None = None
        self._thread = threading.Thread(target=self._run, name="bus-background-publisher", daemon=True)
        self._thread.start()

    def hand_over(self, row: Row) -> bool:
        """Queue ``row`` for publishing; False if the queue is full (the row waits for the relay)."""
        with self._changed:
            if len(self._rows) + self._in_hand >= self.capacity:
                self._left["the queue was full"] = self._left.get("the queue was full", 0) + 1
                return False
            self._rows.append(row)
            self._changed.notify_all()
        return True

    def held(self) -> int:
        """How many rows handed over are not yet dealt with (waiting, or sent and not yet settled)."""
        with self._changed:
            return len(self._rows) + self._in_hand

    def drain(self, timeout: float) -> bool:
        """Wait until everything handed over was dealt with (published or left to the relay); False on timeout."""
        with self._changed:
            if self._rows or self._in_hand:
                self._draining = True  # settle now, not when the oldest row has waited SETTLE_AFTER
                self._changed.notify_all()
            return self._changed.wait_for(lambda: not self._rows and not self._in_hand, timeout)

    # --- the thread -----------------------------------------------------------

    def _run(self) -> None:
        while True:
            batch = self._take()
            try:
                if batch:
                    self._publish(batch)
                if self._settle_due():
                    self._settle()
            except Exception:  # the rows stay unsent: the relay publishes them
                log.exception("publishing after commit failed; the relay will publish the rows")
                self._forget_unsettled()
            finally:
                with self._changed:
                    self._in_hand = self._unsettled()
                    if not self._in_hand:
                        self._draining = False
                    self._changed.notify_all()
            self._report()

    def _take(self) -> list[Row]:
        """The rows handed over (at most ``BATCH``); none if it is time to settle what was sent first."""
        with self._changed:
            unsettled = self._unsettled()
            wait = None if not unsettled else max(0.0, self._publisher.settle_at - time.monotonic())
            self._changed.wait_for(lambda: self._rows or self._draining, wait)
            batch = [self._rows.popleft() for _ in range(min(BATCH, len(self._rows)))]
            self._in_hand = len(batch) + unsettled
        return batch

    # --- settling: the confirms of many rows collected, and the rows marked sent, together ------------------

    def _unsettled(self) -> int:
        return self._publisher.unsettled if self._publisher is not None else 0

    def _settle_due(self) -> bool:
        """Whether to collect the confirms now: when a consumer would (``Publisher.settle_due``), or a drain asks."""
        return self._publisher is not None and (self._publisher.settle_due()
                                                or bool(self._draining and self._publisher.unsettled))

    def _settle(self) -> None:
        sent = self._unsettled()
        close_old_connections()  # as a request would: settle marks the rows sent in their databases
        confirmed = self._publisher.settle()
        if confirmed < sent:
            self._leave(sent - confirmed, "the broker did not confirm them")

    def _forget_unsettled(self) -> None:
        """After a failure: what was sent and not settled is the relay's (its rows are still unsent)."""
        if self._publisher is not None and self._publisher.unsettled:
            self._leave(self._publisher.unsettled, "publishing them failed")
            self._publisher.close()
            self._publisher = None

    def _publish(self, batch: list[Row]) -> None:
        publisher = self._publisher
        if publisher is None or publisher.names != Names.configured():
            if publisher is not None:
                if publisher.unsettled:  # the rows sent under the old names are settled there first
                    self._settle()
                publisher.close()
            publisher = self._publisher = Publisher(confirm_timeout=CONFIRM_WAIT)
        # Connecting may have taken a while (a node that accepts and never
        # answers): only rows still young enough go out, the others are the relay's.
        if not publisher.connected():
            self._leave(len(batch), "the broker is not answering")
            return
        now = timezone.now()
        fresh = [(outbox, row) for outbox, row in batch if (now - row.created_at).total_seconds() < SEND_WITHIN]
        if len(fresh) < len(batch):
            self._leave(len(batch) - len(fresh), "they waited too long for the broker")
        publisher.send(fresh)

    def _leave(self, count: int, reason: str) -> None:
        with self._changed:
            self._left[reason] = self._left.get(reason, 0) + count

    def _report(self) -> None:
        """One line now and then, not one per request, while rows go to the relay."""
        if time.monotonic() - self._reported < REPORT_EVERY:
            return
        with self._changed:
            left, self._left = self._left, {}
        if left:
            self._reported = time.monotonic()
            log.warning("left to the relay: %s", ", ".join(f"{n} because {reason}" for reason, n in left.items()))


_instance: BackgroundPublisher | None = None
_lock = threading.Lock()


def _process_instance() -> BackgroundPublisher:
    """This process's background publisher, started on first use (after a fork, anew: threads do not survive it)."""
    global _instance
    with _lock:
        if _instance is None or _instance.pid != os.getpid():
            if _instance is None:
                atexit.register(drain, DRAIN_AT_EXIT)
            _instance = BackgroundPublisher(settings.BUS["PUBLISH_QUEUE"])
        return _instance


def hand_over(outbox: type[OutboxMessage], row: OutboxMessage) -> bool:
    """Publish ``row`` (committed) soon, from the background thread; never waits. False if it was left to the relay."""
    return _process_instance().hand_over((outbox, row))


def drain(timeout: float) -> bool:
    """Wait up to ``timeout`` seconds for this process's background publisher to deal with what it holds."""
    instance = _instance
    if instance is None or instance.pid != os.getpid():
        return True
    return instance.drain(timeout)
