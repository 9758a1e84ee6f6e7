"""Publishing outbox rows with publisher confirms.

Rows are published right after the transaction that recorded them commits,
by the process that wrote them: a consumer on its own thread, together with
what its other deliveries recorded (consumer.py); any other process (the web)
in a background thread, so no request waits on the broker (background.py).
The relay's periodic sweep publishes whatever that missed (the broker was
away or slow, the process died). A row is marked sent only after the broker
confirmed it, so a row is never lost; it may be published twice, which the
consumers' inboxes absorb.

Confirms are asynchronous: a batch of rows is published without waiting, and
the broker's acks (often one ack for many deliveries) are collected once for
the whole batch. Waiting for each confirm in turn would cost a round trip to
the broker's disk per message and cap a publisher at a few thousand a second.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Iterable, Iterator

import pika
from django.apps import apps
from django.conf import settings
from django.db import connections, router
from django.db.models import F, Q
from django.utils import timezone

from shopsite import metrics

from . import deployment, spans
from .connection import BROKER_ERRORS, Backoff, connect, declare_exchange
from .models import OutboxMessage
from .names import Names

log = logging.getLogger(__name__)

#: How long a sweep owns the rows it picked before another may take them.
CLAIM_LEASE = timedelta(seconds=30)
#: How long a batch may wait for its confirms before the channel is given up as broken.
CONFIRM_TIMEOUT = 30.0
#: Rows younger than this are the writing process's to publish (right after
#: their commit); the sweep takes only older ones, so the two do not publish
#: one row at once.
WRITER_OWNS = timedelta(seconds=2)
#: A channel unused for longer is checked before use: the broker may have closed it.
IDLE_CHECK_AFTER = 5.0
#: A process that publishes as it goes (a consumer, the web's background thread) collects the confirms of this
#: many rows at once, and marks them sent together…
SETTLE_EVERY = 64
#: …unless the oldest of them was sent this long ago (or the process has nothing else to do).
SETTLE_AFTER = 0.25

Row = tuple[type[OutboxMessage], OutboxMessage]


@dataclass
class _InFlight:
    """What the broker still owes us a confirm for, by delivery tag."""

    rows: dict[int, Row] = field(default_factory=dict)
    #: When each was published (time.perf_counter), for the publish-confirm latency.
    published_at: dict[int, float] = field(default_factory=dict)
    #: Copies of a row still unconfirmed (two when the publish-twice fault is on).
    copies: dict[uuid.UUID, int] = field(default_factory=dict)
    #: message ids the broker returned as unroutable; their ack follows the return.
    returned: set[str] = field(default_factory=set)
    confirmed: list[Row] = field(default_factory=list)
    refused: list[tuple[Row, str]] = field(default_factory=list)
    oldest: float = 0.0


class Publisher:
    """A confirmed channel, opened lazily and reopened after a failure.

    After a failure it stays quiet for a growing pause, so it does not wait on
    a broker that is down at every publish: its rows simply wait in the
    outbox. The next connection goes to whichever of the broker's nodes answers.

    ``send`` publishes without waiting; ``settle`` waits for the confirms of
    everything sent and marks the confirmed rows sent; ``publish_rows`` does both.
    """

    MAX_PAUSE = 5.0

    def __init__(self, names: Names | None = None, *, confirm_timeout: float = CONFIRM_TIMEOUT) -> None:
        self.names = names or Names.configured()
        self.confirm_timeout = confirm_timeout
        self._connection: pika.BlockingConnection | None = None
        self._channel = None
        self._backoff = Backoff(first=0.25, cap=self.MAX_PAUSE)
        self._quiet_until = 0.0
        self._last_used = 0.0
        self._next_tag = 1
        self._flight = _InFlight()
        self._confirm_seconds = metrics.publish_confirm.labels(metrics.process_name())

    # --- the channel ------------------------------------------------------

    def _ready_channel(self):
        if self._channel is not None and self._channel.is_open:
            idle = time.monotonic() - self._last_used > IDLE_CHECK_AFTER
            if not idle or self._alive():
                self._last_used = time.monotonic()
                return self._channel
            # The broker drops a connection that stayed silent past its
            # heartbeats (an idle web thread's): open a new one now rather than
            # fail this publish and leave the rows to the sweep.
            self.close()
        if time.monotonic() < self._quiet_until:
            return None
        try:
            self._connection = connect()
            blocking = self._connection.channel()
            declare_exchange(blocking, self.names)
            # The asynchronous channel under the blocking one: its publish does
            # not wait, and confirms arrive through our callback.
            channel = blocking._impl
            channel.add_on_return_callback(self._on_return)
            selected = []
            channel.confirm_delivery(ack_nack_callback=self._on_confirm, callback=selected.append)
            self._process_until(lambda: selected)
        except BROKER_ERRORS as exc:
            self._failed(exc)
            return None
        self._channel, self._next_tag = channel, 1
        self._backoff.reset()
        self._last_used = time.monotonic()
        return channel

    def connected(self) -> bool:
        """Whether a confirmed channel is open, or could be opened now (not while pausing after a failure)."""
        return self._ready_channel() is not None

    def _alive(self) -> bool:
        try:
            self._connection.process_data_events(time_limit=0)  # reads EOF if the broker hung up
        except BROKER_ERRORS:
            return False
        return self._channel is not None and self._channel.is_open

    def _process_until(self, done, timeout: float | None = None) -> None:
        """Read from the broker until ``done()``; at most ``timeout`` seconds (by default ``confirm_timeout``).

        ``process_data_events`` would sit out its whole time limit: it does not
        know that our callbacks on the asynchronous channel were served. The
        connection's own wait, the one BlockingChannel uses for its confirms,
        stops as soon as ``done`` holds (and raises if the connection drops).
        """
        timeout = self.confirm_timeout if timeout is None else timeout
        ioloop = self._connection._impl.ioloop
        expired: list[bool] = []
        timer = ioloop.call_later(timeout, lambda: expired.append(True))
        try:
            self._connection._flush_output(done, lambda: bool(expired))
        finally:
            ioloop.remove_timeout(timer)
        if not done():
            raise pika.exceptions.AMQPError(f"no answer from the broker within {timeout}s")

    def _failed(self, exc: BaseException) -> None:
        log.warning("broker unavailable for publishing: %r", exc)
        self.close()
        self._quiet_until = time.monotonic() + self._backoff.next()

    def close(self) -> None:
        connection, self._connection, self._channel = self._connection, None, None
        # Whatever was not confirmed stays unsent in its outbox, for the sweep.
        flight = self._flight
        self._flight = _InFlight(confirmed=flight.confirmed, refused=flight.refused)
        if connection is not None and connection.is_open:
            try:
                connection.close()
            except BROKER_ERRORS:
                pass

    # --- confirms ---------------------------------------------------------

    def _on_return(self, _channel, _method, properties, _body) -> None:
        # Unroutable means the topology is not declared yet: keep the row
        # rather than let the broker drop the message.
        self._flight.returned.add(properties.message_id)

    def _on_confirm(self, frame) -> None:
        method, flight = frame.method, self._flight
        if method.multiple:
            tags = [tag for tag in flight.rows if tag <= method.delivery_tag]
        else:
            tags = [method.delivery_tag] if method.delivery_tag in flight.rows else []
        acked = isinstance(method, pika.spec.Basic.Ack)
        now = time.perf_counter()
        for tag in tags:
            outbox, row = flight.rows.pop(tag)
            self._confirm_seconds.observe(now - flight.published_at.pop(tag))
            if row.id not in flight.copies:
                continue  # another copy of it was refused already
            if not acked or str(row.id) in flight.returned:
                del flight.copies[row.id]
                reason = "unroutable" if acked else "nacked by the broker"
                flight.refused.append(((outbox, row), reason))
                continue
            flight.copies[row.id] -= 1
            if not flight.copies[row.id]:
                del flight.copies[row.id]
                flight.confirmed.append((outbox, row))

    # --- publishing -------------------------------------------------------

    def send(self, rows: Iterable[Row], *, flush: bool = True) -> int:
        """Publish ``rows`` in order without waiting for their confirms; how many went out.

        With ``flush=False`` the frames wait in the connection's buffer until
        the next ``send``, ``flush`` or ``settle``: a caller that knows more
        rows follow at once saves a write to the socket per message.
        """
        rows = list(rows)
        if not rows:
            return 0
        channel = self._ready_channel()
        if channel is None:
            return 0
        copies = 2 if settings.BUS["PUBLISH_TWICE"] else 1
        headers = deployment.mark()
        flight = self._flight
        if not self.unsettled:  # else the oldest row not yet settled, confirmed or not, keeps its time
            flight.oldest = time.monotonic()
        published_at = time.perf_counter()
        try:
            for outbox, row in rows:
                properties = message_properties(outbox, row, headers)
                flight.copies[row.id] = copies
                for _ in range(copies):
                    channel.basic_publish(self.names.exchange, row.type, row.body.encode(), properties,
                                          mandatory=True)
                    flight.rows[self._next_tag] = (outbox, row)
                    flight.published_at[self._next_tag] = published_at
                    self._next_tag += 1
            if flush:
                self._flush()
        except BROKER_ERRORS as exc:
            self._failed(exc)
            return 0
        return len(rows)

    def flush(self) -> None:
        """Hand what was sent to the socket now (and read any confirms already in)."""
        if self._connection is not None and self._connection.is_open:
            try:
                self._flush()
            except BROKER_ERRORS as exc:
                self._failed(exc)

    def _flush(self) -> None:
        self._connection.process_data_events(time_limit=0)

    @property
    def unsettled(self) -> int:
        """Rows sent whose confirms were not yet collected."""
        return len(self._flight.copies) + len(self._flight.confirmed) + len(self._flight.refused)

    @property
    def unsettled_since(self) -> float:
        return self._flight.oldest if self.unsettled else time.monotonic()

    @property
    def settle_at(self) -> float:
        """When what was sent is due to be settled: ``SETTLE_AFTER`` after the oldest row not yet settled went out."""
        return self.unsettled_since + SETTLE_AFTER

    def settle_due(self) -> bool:
        """Whether a process that publishes as it goes should settle now: ``SETTLE_EVERY`` rows wait for it, or
        the oldest of them went out ``SETTLE_AFTER`` ago."""
        unsettled = self.unsettled
        return bool(unsettled) and (unsettled >= SETTLE_EVERY or time.monotonic() >= self.settle_at)

    def settle(self) -> int:
        """Wait for the confirms of everything sent; mark the confirmed rows sent; how many were."""
        if self._flight.copies:
            try:
                self._process_until(lambda: not self._flight.copies)
            except BROKER_ERRORS as exc:
                self._failed(exc)
        flight = self._flight
        confirmed, refused = flight.confirmed, flight.refused
        flight.confirmed, flight.refused, flight.returned = [], [], set()
        by_outbox: dict[type[OutboxMessage], list[uuid.UUID]] = defaultdict(list)
        for outbox, row in confirmed:
            by_outbox[outbox].append(row.id)
        for outbox, ids in by_outbox.items():
            mark_sent(outbox, ids)
        for (outbox, row), reason in refused:
            log.warning("broker did not take %s %s: %s", row.type, row.id, reason)
            # No longer the sweep's to release (see ``sweep``): a refused row
            # keeps its lease, so an unroutable one is tried again only when it ends.
            outbox.objects.using(router.db_for_write(outbox)).filter(id=row.id).update(
                attempts=F("attempts") + 1, last_error=reason, claimed_by=None
            )
        return len(confirmed)

    def publish_rows(self, outbox: type[OutboxMessage], rows: Iterable[OutboxMessage]) -> int:
        """Publish ``rows``, wait for their confirms, mark the confirmed ones sent; return how many."""
        self.send((outbox, row) for row in rows)
        return self.settle()


_local = threading.local()


def message_properties(outbox: type[OutboxMessage], row: OutboxMessage, headers: dict) -> pika.BasicProperties:
    """What ``row`` is published with: its id, type and correlation id, the service that recorded it, and
    ``headers`` (the deployment's mark) with the row's trace context."""
    return pika.BasicProperties(
        message_id=str(row.id),
        type=row.type,
        correlation_id=str(row.correlation_id),
        app_id=outbox._meta.app_label,
        content_type="application/json",
        delivery_mode=pika.DeliveryMode.Persistent,
        timestamp=int(row.created_at.timestamp()) if row.created_at else None,
        headers=spans.with_traceparent(headers, row.traceparent),
    )


def mark_sent(outbox: type[OutboxMessage], ids: list[uuid.UUID]) -> int:
    """Record the rows of ``ids`` as sent, once the broker confirmed them (the relay's sweep leaves them then)."""
    return outbox.objects.using(router.db_for_write(outbox)).filter(id__in=ids).update(
        sent_at=timezone.now(), attempts=F("attempts") + 1, claimed_by=None, claimed_until=None
    )


def process_publisher() -> Publisher:
    """This thread's publisher (pika connections are not thread-safe)."""
    publisher = getattr(_local, "publisher", None)
    if publisher is None or publisher.names != Names.configured():
        publisher = _local.publisher = Publisher()
    return publisher


class _PublishAfterCommit:
    """Registered for each recorded row: it runs only if the row's transaction (and savepoint) committed."""

    def __init__(self, outbox: type[OutboxMessage], row: OutboxMessage) -> None:
        self.outbox, self.row = outbox, row

    def __call__(self) -> None:
        collecting = getattr(_local, "committed", None)
        if collecting is not None:
            collecting.append((self.outbox, self.row))
            return
        # Anywhere but in a consumer (a web request, a command): this thread
        # must not wait on the broker, so the process's background publisher
        # takes the row; if it cannot, the row waits for the relay.
        from .background import hand_over  # it needs this module: import late

        try:
            hand_over(self.outbox, self.row)
        except Exception:  # the commit already happened: the relay publishes the row
            log.exception("handing a row to the background publisher failed; the relay will publish it")


@contextlib.contextmanager
def collect_committed() -> Iterator[list[Row]]:
    """Gather the rows committed inside the block instead of publishing each at once.

    The consumer publishes them together after its transaction, and collects
    their confirms for several deliveries at a time.
    """
    committed: list[Row] = []
    _local.committed = committed
    try:
        yield committed
    finally:
        _local.committed = None


def publish_after_commit(outbox: type[OutboxMessage], row: OutboxMessage, *, using: str) -> None:
    # One callback per row: Django drops the callbacks of a rolled-back
    # savepoint, so exactly the committed rows are published.
    if settings.BUS["PUBLISH_ON_COMMIT"]:
        connections[using].on_commit(_PublishAfterCommit(outbox, row))


def outboxes() -> list[type[OutboxMessage]]:
    return [apps.get_model(service, "OutboxMessage") for service in settings.SERVICES]


def sweep(publisher: Publisher, *, batch: int = 500, grace: timedelta | None = None,
          only: list[type[OutboxMessage]] | None = None) -> int:
    """Publish every outbox row left unsent; return how many went out."""
    if grace is None:
        # Fresh rows belong to the process that wrote them, which publishes
        # them right after its commit; only older ones are the sweep's.
        grace = WRITER_OWNS if settings.BUS["PUBLISH_ON_COMMIT"] else timedelta(0)
    published = 0
    for outbox in only or outboxes():
        db = router.db_for_write(outbox)
        now = timezone.now()
        free = Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
        unsent = outbox.objects.using(db).filter(free, sent_at__isnull=True, created_at__lte=now - grace)
        candidates = list(unsent.order_by("created_at").values_list("id", flat=True)[:batch])
        if not candidates:
            continue
        token = uuid.uuid4()
        unsent.filter(id__in=candidates).update(claimed_by=token, claimed_until=now + CLAIM_LEASE)
        rows = outbox.objects.using(db).filter(claimed_by=token, sent_at__isnull=True).order_by("created_at")
        published += publisher.publish_rows(outbox, rows)
        # Rows still ours were not confirmed because the broker went away (or
        # the publisher is pausing after it did): the lease only keeps two
        # relays from publishing a row at once, and this sweep is done with
        # them. Held to the end of the lease, they would wait 30 s after the
        # broker (or another node) answers again, holding up every flow.
        outbox.objects.using(db).filter(claimed_by=token, sent_at__isnull=True).update(
            claimed_by=None, claimed_until=None)
    return published
