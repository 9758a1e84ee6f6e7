"""The idempotent consumer every service runs (``manage.py consume_<service>``).

For each delivery, in a transaction on the service's database: skip the
handlers that already applied this message (the inbox, which knows each
handler by its key: see ``handlers.py``), run the others and record them.
The delivery is acknowledged only after that commit. A handler error sends
the message to a retry queue that hands it back after a growing delay; after
the last retry, or at once for a message that can never be handled, it is
parked in the service's dead-letter queue with the reason.

Deliveries that are already waiting when one arrives are handled together,
in one transaction for the batch. If a message fails, that transaction is
rolled back and the batch is handled again with each message in a savepoint
of its own, so the failing message is rolled back alone and the others
commit (savepoints only then: they cost two statements a message). A message
that failed in a batch is tried once more in a transaction of its own before
it counts as failed. A quiet queue gives batches of one: batching costs no
latency, and under load it saves a commit, a write to the
broker and an ack per message.

A message that kills its consumer process (a segfault, an OOM kill, a hang
that the orchestrator ends with SIGKILL) comes back marked *redelivered*,
together with everything that process had prefetched and not yet
acknowledged. So a redelivered delivery is a suspect, and suspects are taken
one at a time: a consumer subscribes with prefetch 1, handles each
redelivered delivery alone, in its own transaction, and acknowledges it
before the broker sends the next. At the first delivery that is not
redelivered the backlog is through (the broker hands returned messages back
before new ones), and it subscribes again with the full prefetch and batches.
A consumer that meets a suspect in a full window (another copy died) goes
back to prefetch 1 the same way; what it already holds is handled in order,
the suspects each alone, rather than given back, which would cost each a
delivery attempt. A suspect that kills the process is then the only message
the broker takes back. On a quorum queue, whose delivery limit counts every
return, the poison alone uses up its deliveries and the broker dead-letters
it (reason ``delivery_limit``); a message prefetched beside it loses at most
the delivery of the crash that found it in a full window. Classic queues
count nothing: a message that kills every consumer comes back for ever (one
restart per crash, the rest of the queue waiting behind it) until it is
removed by hand, so a deployment that must survive that runs quorum queues.

A consumer keeps the prefetch it subscribed with (``basic.qos`` applies to
later subscriptions only), so a change of mode cancels and subscribes again.
Going up nothing is in flight (the one delivery prefetch 1 allows is still
unacknowledged); going down, a delivery still on its way when the cancel is
sent is returned by pika, one delivery attempt lost on a quorum queue.
"""

from __future__ import annotations

import logging
import os
import time
import traceback
import uuid
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import pika
from django.apps import apps
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import close_old_connections, connections, transaction
from django.utils import timezone as django_timezone

from shopsite import metrics

from . import context, deployment, faults, spans, statements
from .connection import (BROKER_ERRORS, Backoff, batch_size, connect, connected_node, declare_service, parameters,
                         subscriptions)
from .envelope import Envelope, InvalidMessage
from .handlers import Handler, handler_table
from .keepalive import Keepalive
from .names import Names
from .publisher import Row, collect_committed, process_publisher

log = logging.getLogger(__name__)

ATTEMPT_HEADER = "x-shop-attempt"
ERROR_HEADER = "x-shop-error"

#: Seconds between checks that the database connections are still usable.
CONNECTION_CHECK_INTERVAL = 1.0


@dataclass
class Delivery:
    """A decoded delivery and the handlers it goes to."""

    method: pika.spec.Basic.Deliver
    properties: pika.BasicProperties
    body: bytes
    envelope: Envelope
    message: object
    handlers: tuple[Handler, ...]


@dataclass
class Failure:
    delivery: Delivery
    error: Exception
    traceback: str


#: PostgreSQL's SQLSTATEs for a transaction that lost a race for a row lock: a deadlock, a lock wait past
#: ``lock_timeout``, a serialization failure. Rolling back to a savepoint keeps the locks taken before it,
#: so a batch that meets one of these gives up whole (see ``apply_batch``).
LOCK_CONFLICTS = frozenset({"40P01", "55P03", "40001"})


def lost_a_lock(exc: BaseException | None) -> bool:
    """Whether ``exc`` (or what it was raised from: Django wraps the driver's error) is a lock conflict."""
    while exc is not None:
        if getattr(exc, "sqlstate", None) in LOCK_CONFLICTS:
            return True
        exc = exc.__cause__
    return False


def _lock_timeout() -> str:
    """``BUS["BATCH_LOCK_TIMEOUT"]`` as PostgreSQL's ``lock_timeout`` takes it (milliseconds)."""
    return str(int(settings.BUS["BATCH_LOCK_TIMEOUT"] * 1000))


class BatchAborted(Exception):
    """The transaction cannot commit; in a batch, its messages are handled one by one instead."""


def ready_file(service: str, pid: int) -> Path:
    """Where a consumer process says it is consuming (see ``Consumer._ready``)."""
    return Path(settings.BUS["READY_DIR"]) / f"{service}-{pid}.ready"


def ready_files(service: str) -> dict[Path, int]:
    """The ready files of this service's consumers on this machine, each with its process id."""
    files = {}
    for path in Path(settings.BUS["READY_DIR"]).glob(f"{service}-*.ready"):
        pid = path.stem.removeprefix(f"{service}-")
        if pid.isdigit():
            files[path] = int(pid)
    return files


class Consumer:
    def __init__(self, service: str, *, names: Names | None = None,
                 handlers: dict[type, tuple[Handler, ...]] | None = None, batch: int | None = None) -> None:
        self.service = service
        self.names = names or Names.configured()
        self.handlers = handler_table(service, handlers) if handlers is not None else subscriptions(service)
        try:
            faults.parse(settings.BUS["FAULTS"])
        except ValueError as exc:  # a fault that names no handler would silently never happen
            raise ImproperlyConfigured(f"BUS_FAULTS: {exc}") from exc
        self.inbox = apps.get_model(service, "InboxMessage")
        self.db = settings.SERVICE_DATABASES[service]
        self.delays: list[float] = settings.BUS["RETRY_DELAYS"]
        self.max_bytes: int = settings.BUS["MAX_MESSAGE_BYTES"]
        self.deployment: str = settings.BUS["DEPLOYMENT"]
        self.batch = max(1, min(batch or batch_size(service), settings.BUS["PREFETCH"]))
        self.ready_file = ready_file(service, os.getpid())
        self._keepalive: Keepalive | None = None
        self._backoff = Backoff()
        self._is_ready = False
        self._node = ""  # the broker node of the current connection
        self._stopping = False
        self._connections_checked = 0.0
        self._ack_every = max(1, settings.BUS["PREFETCH"] // 2)
        self._unacked: tuple[int, int] = (0, 0)  # (last delivery tag handled, how many since the last ack)
        self.handled = 0
        self.connections_lost = 0
        self.metrics = metrics.ConsumerMetrics(service, [message_class.TYPE for message_class in self.handlers])

    def stop(self) -> None:
        """Finish the current batch, acknowledge it, then leave ``run``."""
        self._stopping = True

    # --- the loop ---------------------------------------------------------

    def run(self, *, until: Callable[[], bool] | None = None) -> None:
        """Consume until stopped (or ``until()`` is true), reconnecting with backoff.

        A reconnect goes to whichever of the broker's nodes answers first
        (``connection.connect``); the queue is a quorum queue on a cluster, so
        it is there too. The ready file is gone while disconnected.
        """
        # Handlers run on this (the consuming) thread; the keepalive thread answers
        # the broker's heartbeats if they run long, so a slow handler keeps the connection.
        self._keepalive = Keepalive(min((p.heartbeat or 60 for p in parameters())))
        self._keepalive.lock.acquire()
        self._keepalive.start()
        # A process killed before it could remove its file may have had our pid
        # (in a restarted container it is always 1): not ready until we are.
        self._ready(False)
        try:
            while not self._should_stop(until):
                try:
                    self._consume(until)
                except BROKER_ERRORS as exc:
                    self.connections_lost += 1
                    self._ready(False)
                    pause = self._backoff.next()
                    log.warning("%s consumer lost the broker (%r); reconnecting in %.1fs", self.service, exc, pause)
                    self._sleep(pause, until)
        finally:
            self._keepalive.stop()
            self._ready(False)
            self._settle()
            process_publisher().close()
            connections.close_all()

    def _ready(self, ready: bool) -> None:
        """A file an orchestrator can watch: present while connected and consuming; says the queue and the node."""
        self._is_ready = ready
        self.metrics.connected(ready)
        if ready:
            self.ready_file.parent.mkdir(parents=True, exist_ok=True)
            self.ready_file.write_text(f"{self.names.queue(self.service)}\n{self._node}\n")
        else:
            self.ready_file.unlink(missing_ok=True)

    def _should_stop(self, until: Callable[[], bool] | None) -> bool:
        return self._stopping or (until is not None and until())

    def _sleep(self, seconds: float, until: Callable[[], bool] | None) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not self._should_stop(until):
            time.sleep(0.05)

    def _consume(self, until: Callable[[], bool] | None) -> None:
        connection = self._keepalive.connection = connect()
        try:
            channel = connection.channel()
            declare_service(channel, self.service, self.names, self.handlers)
            channel.confirm_delivery()
            self._unacked = (0, 0)  # delivery tags belong to a channel: a new one starts afresh
            self._node = connected_node(connection)
            careful = True  # what a dead consumer left unacknowledged comes first: one at a time
            while not self._should_stop(until):
                careful = self._subscribe(channel, careful, until)
            self._flush_acks(channel)
        finally:
            if connection.is_open:
                connection.close()

    def _subscribe(self, channel, careful: bool, until: Callable[[], bool] | None) -> bool:
        """Consume at prefetch 1 (``careful``) or at the full prefetch until the mode changes; the next mode.

        Returns with this subscription cancelled: a consumer keeps the
        prefetch it was created with, so each mode is a subscription of its own.
        """
        channel.basic_qos(prefetch_count=1 if careful else settings.BUS["PREFETCH"])
        batch: list[tuple] = []
        for delivery in channel.consume(self.names.queue(self.service), inactivity_timeout=0.2):
            if not self._is_ready:  # the first pass: the broker took our basic.consume
                log.info("%s consumer ready on %s at %s", self.service, self.names.queue(self.service), self._node)
                self._ready(True)
                self._backoff.reset()
            method = delivery[0]
            if method is None:  # idle: acknowledge, and collect the confirms of what the last deliveries published
                self._flush_acks(channel)
                self._settle()
            elif careful and method.redelivered:
                self._deliver_alone(channel, delivery)
            elif careful:
                # The redelivered backlog is through (the broker hands returned
                # messages back before new ones). Cancelled while this delivery
                # is unacknowledged, so at prefetch 1 nothing else is on its way.
                channel.cancel()
                log.info("%s: no redelivered message left; back to a prefetch of %d",
                         self.service, settings.BUS["PREFETCH"])
                self.deliver(channel, [delivery])
                return False
            elif method.redelivered:
                # Another copy died holding it (or a connection dropped): it may
                # kill this process too. What is already here is handled, not
                # given back: giving back would cost each a delivery attempt.
                held = batch + [delivery] + _take_waiting(channel)
                channel.cancel()
                log.info("%s: a redelivered message; taking redelivered messages one at a time", self.service)
                self._deliver_in_order(channel, held)
                return True
            else:
                batch.append(delivery)
                if len(batch) < self.batch and _more_waiting(channel):
                    continue  # take it too: the batch grows only from what is already here
                self.deliver(channel, batch)
                batch = []
            if self._should_stop(until):
                break
        channel.cancel()
        return careful

    def _deliver_alone(self, channel, delivery: tuple) -> None:
        """Handle a suspect delivery alone, everything handled before it acknowledged, and acknowledge it at once.

        At prefetch 1, if it kills the process, it is the only message the
        broker takes back (on a quorum queue, the only one whose delivery count grows).
        """
        self._flush_acks(channel)
        self.deliver(channel, [delivery])
        self._flush_acks(channel)

    def _deliver_in_order(self, channel, deliveries: list[tuple]) -> None:
        """Handle held deliveries in their order (acks are cumulative): fresh runs as batches, suspects alone."""
        fresh: list[tuple] = []
        for delivery in deliveries:
            if not delivery[0].redelivered:
                fresh.append(delivery)
                if len(fresh) == self.batch:
                    self.deliver(channel, fresh)
                    fresh = []
                continue
            if fresh:
                self.deliver(channel, fresh)
                fresh = []
            self._deliver_alone(channel, delivery)
        if fresh:
            self.deliver(channel, fresh)

    # --- a batch of deliveries ---------------------------------------------

    def deliver(self, channel, deliveries: list[tuple]) -> None:
        """Handle ``deliveries`` (method, properties, body), then acknowledge them (together: see ``_ack``)."""
        ready = []
        handed_back = set()  # delivery tags that could not be moved to a retry or dead-letter queue
        for method, properties, body in deliveries:
            try:
                ready.append(self._decode(method, properties, body))
            except InvalidMessage as exc:
                log.error("%s: dead-lettering an invalid message: %s", self.service, exc)
                if not self._park(channel, method, properties, body, reason=str(exc)):
                    handed_back.add(method.delivery_tag)
        if ready:
            started = time.perf_counter()
            with self._keepalive.handling():
                failures = self.apply_batch(ready)
            self.metrics.batch(len(ready), time.perf_counter() - started)
            for failure in failures:
                with context.handling(failure.delivery.envelope):
                    if not self._retry_or_park(channel, failure):
                        handed_back.add(failure.delivery.method.delivery_tag)
        # A ``multiple`` ack must name a tag still unacknowledged (the broker
        # closes the channel otherwise): the last one not handed back.
        settled = [method.delivery_tag for method, _, _ in deliveries if method.delivery_tag not in handed_back]
        if settled:
            self._ack(channel, settled[-1], len(settled))
        self.handled += len(ready)

    def _ack(self, channel, delivery_tag: int, count: int) -> None:
        """Acknowledge deliveries whose transaction committed (or that went to a retry or dead-letter queue).

        Acks go out together, one ``multiple`` ack for up to half the
        prefetch, or as soon as the queue is idle: each ack is a write to the
        socket, as costly as much of the bus's own work on a message. If the
        connection drops first, the broker redelivers and the inbox skips them.
        """
        self._unacked = (delivery_tag, self._unacked[1] + count)
        if self._unacked[1] >= self._ack_every:
            self._flush_acks(channel)

    def _flush_acks(self, channel) -> None:
        last, count = self._unacked
        if count:
            channel.basic_ack(last, multiple=True)
            self._unacked = (last, 0)

    def _decode(self, method, properties, body: bytes) -> Delivery:
        # Another shop's message is refused before anything in it is read.
        refusal = deployment.refusal(properties.headers, self.deployment)
        if refusal is not None:
            raise InvalidMessage(refusal)
        if len(body) > self.max_bytes:
            raise InvalidMessage(f"message of {len(body)} bytes is over the {self.max_bytes}-byte limit")
        envelope = Envelope.from_json(body)
        message = envelope.message()
        handlers = self.handlers.get(type(message))
        if handlers is None:
            raise InvalidMessage(f"{self.service} has no handler for {envelope.type}")
        return Delivery(method, properties, body, envelope, message, handlers)

    def apply_batch(self, deliveries: list[Delivery]) -> list[Failure]:
        """Handle ``deliveries`` in one transaction; the ones that failed.

        The batch is first tried as one plain transaction, with no savepoint
        per message: each savepoint costs two statements (two round trips on
        PostgreSQL) per message, and messages rarely fail. If any of them
        fails, that transaction is rolled back whole and the batch is handled
        again with a savepoint per message (``_apply_in_savepoints``), which
        keeps the others. A message that failed there is tried once more
        alone, in its own transaction, so a batch never changes what counts
        as an attempt. If the batch cannot commit at all, every message is
        handled alone.

        Several copies of a consumer take batches from the same queue, and two
        batches that touch the same rows in another order (a popular
        product's stock) would deadlock, which PostgreSQL notices only after
        ``deadlock_timeout`` (a second by default), while both wait. So on
        PostgreSQL a batch waits at most ``BUS["BATCH_LOCK_TIMEOUT"]`` for a
        row lock; one that loses a race for a lock is rolled back whole,
        releasing its locks for the other copy, and its messages are handled
        one by one (each message's own rows are locked in a fixed order, so
        those transactions do not deadlock with each other).
        """
        if len(deliveries) == 1:
            return self._apply_alone(deliveries[0])
        self._check_connections()
        try:
            handled, _, committed = self._in_one_transaction(deliveries, savepoints=False)
        except Exception as exc:
            if lost_a_lock(exc):
                log.info("%s: a batch of %d lost a race for a lock (%r); handling its messages one by one",
                         self.service, len(deliveries), exc)
                self.metrics.lock_conflicts.inc()
                return self._one_by_one(deliveries)
            log.info("%s: a batch of %d failed (%r); handling it again, a savepoint per message",
                     self.service, len(deliveries), exc)
            return self._apply_in_savepoints(deliveries)
        self._committed(handled, committed)
        return []

    def _apply_in_savepoints(self, deliveries: list[Delivery]) -> list[Failure]:
        """Handle ``deliveries`` in one transaction, each in its own savepoint; the ones that failed."""
        self._check_connections()
        try:
            handled, failed, committed = self._in_one_transaction(deliveries, savepoints=True)
        except Exception as exc:
            log.warning("%s: a batch of %d could not commit (%r); handling its messages one by one",
                        self.service, len(deliveries), exc)
            self._connections_checked = 0.0
            return self._one_by_one(deliveries)
        self._committed(handled, committed)
        return self._one_by_one(failed)

    def _in_one_transaction(self, deliveries: list[Delivery], *, savepoints: bool
                            ) -> tuple[list[tuple[str, bool]], list[Delivery], list[Row]]:
        """Run the deliveries' handlers in one transaction and commit it: (type, duplicate) of each message
        handled, the deliveries that failed, the rows committed for publishing.

        With ``savepoints``, each message has one, and a failing message is
        rolled back alone and listed; without, any failure rolls the whole
        transaction back and is raised. A lost race for a lock is raised
        either way: rolling back to a savepoint would keep the locks taken
        before it.
        """
        handled: list[tuple[str, bool]] = []
        failed: list[Delivery] = []
        with spans.batch(self.service, deliveries) as batch, collect_committed() as committed:
            with transaction.atomic(using=self.db):
                # Without savepoints the transaction is undone whole or not at all, so its inbox rows are
                # claimed in one statement, which also limits its lock waits, and the rows nothing reads
                # before the commit are written in one (``_claim``, ``statements.inserts_held``).
                if savepoints:
                    self._limit_lock_waits()
                    claims = None
                else:
                    claims = self._claim([(d.envelope, d.handlers) for d in deliveries], limit_lock_waits=True)
                with nullcontext() if savepoints else statements.inserts_held(self.db):
                    for delivery in deliveries:
                        try:
                            with spans.processing(self.service, delivery, batch=batch), \
                                    transaction.atomic(using=self.db, savepoint=savepoints):
                                duplicate = self._run_handlers(delivery.envelope, delivery.message,
                                                               delivery.handlers, claims,
                                                               redelivered=delivery.method.redelivered)
                                self._check_committable()  # else the transaction is rolled back silently
                            handled.append((delivery.envelope.type, duplicate))
                        except Exception as exc:
                            if not savepoints or lost_a_lock(exc):
                                raise
                            log.info("%s: %s %s failed in a batch (%r); trying it alone", self.service,
                                     delivery.envelope.type, delivery.envelope.id, exc)
                            failed.append(delivery)
                        self._check_committable()  # a savepoint that could not be rolled back dooms the batch
        return handled, failed, committed

    def _committed(self, handled: list[tuple[str, bool]], committed: list[Row]) -> None:
        """Count what a batch's commit handled and publish the rows it committed."""
        for message_type, duplicate in handled:
            self.metrics.handled(message_type, duplicate=duplicate)
        self._publish(committed)

    def _one_by_one(self, deliveries: list[Delivery]) -> list[Failure]:
        return [failure for delivery in deliveries for failure in self._apply_alone(delivery)]

    def _limit_lock_waits(self) -> None:
        """On PostgreSQL, this transaction waits at most ``BUS["BATCH_LOCK_TIMEOUT"]`` seconds for a row lock."""
        connection = connections[self.db]
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(f"SET LOCAL lock_timeout = {_lock_timeout()}")

    def _apply_alone(self, delivery: Delivery) -> list[Failure]:
        try:
            with spans.processing(self.service, delivery):
                self.apply(delivery.envelope, delivery.message, delivery.handlers,
                           redelivered=delivery.method.redelivered)
        except Exception as exc:
            self.metrics.of(delivery.envelope.type).failed.inc()
            return [Failure(delivery, exc, traceback.format_exc())]
        return []

    def apply(self, envelope: Envelope, message, handlers, *, redelivered: bool = False) -> None:
        """Run the handlers not yet applied to this message, in one transaction, then publish what they recorded.

        The messages the handlers record are published right after the commit;
        their confirms are collected for several deliveries at once
        (``_settle``). Until then their rows stay unsent, so a crash in between
        only means the relay publishes them again.
        """
        self._check_connections()
        try:
            with collect_committed() as committed:
                with transaction.atomic(using=self.db):
                    with statements.inserts_held(self.db):
                        duplicate = self._run_handlers(envelope, message, handlers,
                                                       self._claim([(envelope, handlers)]), redelivered=redelivered)
                        self._check_committable()  # before the held rows are written into a doomed transaction
        except Exception:
            self._connections_checked = 0.0  # a broken connection is replaced before the retry
            process_publisher().flush()  # what earlier deliveries published must not wait for a retry
            raise
        self.metrics.handled(envelope.type, duplicate=duplicate)
        self._publish(committed)

    def _run_handlers(self, envelope: Envelope, message, handlers, claims: set[tuple[uuid.UUID, str]] | None, *,
                      redelivered: bool) -> bool:
        """Run the handlers that have not applied this message yet; True if none was left (a duplicate).

        ``claims``: the (message, handler) pairs whose inbox rows this transaction wrote (``_claim``); a handler
        whose pair is not there applied the message before. None: each handler's row is written as it runs
        (``_seen``), in its message's savepoint.
        """
        ran = False
        with context.handling(envelope), self.metrics.of(envelope.type).duration.time():
            if redelivered:
                log.info("%s: %s %s redelivered", self.service, envelope.type, envelope.id)
            for handler in handlers:
                if self._seen(envelope, handler) if claims is None else not _take(claims, envelope, handler):
                    log.info("%s: %s already handled %s", self.service, handler.key, envelope.id)
                    continue
                faults.inject(handler.key)
                handler(message)
                ran = True
        return not ran

    def _check_committable(self) -> None:
        # Django marks a transaction it must roll back (a savepoint that could
        # not be rolled back, an error swallowed inside ``atomic(savepoint=False)``)
        # and then rolls it back silently on leaving the block: that must not
        # pass for a commit, or the delivery would be acknowledged and lost.
        if connections[self.db].needs_rollback:
            raise BatchAborted("the transaction can no longer commit: an error inside it was swallowed")

    def _publish(self, committed: list[Row]) -> None:
        try:
            publisher = process_publisher()
            publisher.send(committed)
            if publisher.settle_due():
                publisher.settle()
        except Exception:  # the commit already happened: the relay publishes whatever is left unsent
            log.exception("%s: publishing after commit failed; the relay will retry", self.service)

    def _settle(self) -> None:
        try:
            process_publisher().settle()
        except Exception:  # the rows stay unsent: the relay publishes them
            log.exception("%s: marking published messages sent failed", self.service)

    def _check_connections(self) -> None:
        # Django's per-request check (and, on PostgreSQL, its health-check
        # query) costs a round trip; once a second is enough to drop a stale
        # connection, and after any failure it runs before the next delivery.
        if time.monotonic() - self._connections_checked > CONNECTION_CHECK_INTERVAL:
            close_old_connections()
            self._connections_checked = time.monotonic()

    def _claim(self, messages: list[tuple[Envelope, list[Handler]]], *, limit_lock_waits: bool = False
               ) -> set[tuple[uuid.UUID, str]]:
        """Record every (message, handler) of ``messages`` in the inbox, in one statement; the pairs that were new.

        ``INSERT … ON CONFLICT DO NOTHING … RETURNING`` (``_seen`` for several at once): the pairs an earlier
        transaction recorded are not returned, nor a second copy of a message in the same batch. The rows go
        in key order, so two copies of a consumer claiming the same messages wait for each other's commit in
        the same order rather than deadlock.

        ``limit_lock_waits``: the statement, the transaction's first, also does what ``_limit_lock_waits``
        does, before it writes a row: a batch's round trip fewer on PostgreSQL.
        """
        now = django_timezone.now()
        rows = sorted(({"message_id": envelope.id, "handler": handler.key, "type": envelope.type,
                        "correlation_id": envelope.correlation_id, "processed_at": now}
                       for envelope, handlers in messages for handler in handlers),
                      key=lambda row: (row["message_id"], row["handler"]))
        unique = ("message_id", "handler")
        limit = limit_lock_waits and connections[self.db].vendor == "postgresql"
        if len(rows) == 1 and not limit:  # a lone delivery with one handler (most of them): the row count says it all
            new = statements.insert(self.inbox, self.db, rows[0], unless_exists=unique)
            return {(rows[0]["message_id"], rows[0]["handler"])} if new else set()
        return {(row.message_id, row.handler)
                for row in statements.insert_returning(self.inbox, self.db, rows, unless_exists=unique,
                                                       set_local={"lock_timeout": _lock_timeout()} if limit else None)}

    def _seen(self, envelope: Envelope, handler: Handler) -> bool:
        """Record (message, handler key) in the inbox; True if it was there already.

        One ``INSERT … ON CONFLICT DO NOTHING`` instead of an INSERT in a
        savepoint: no savepoint round trips, and on PostgreSQL a concurrent
        copy handling the same message waits for the first one's commit and
        then finds the row, instead of failing.
        """
        return not self._claim([(envelope, [handler])])

    # --- failure ----------------------------------------------------------

    def _retry_or_park(self, channel, failure: Failure) -> bool:
        """Send a failed message to its next retry queue, or park it after the last; False if it could not go."""
        delivery, exc = failure.delivery, failure.error
        properties, envelope = delivery.properties, delivery.envelope
        attempt = int((properties.headers or {}).get(ATTEMPT_HEADER, 0))
        error = f"{type(exc).__name__}: {exc}"
        if attempt < len(self.delays):
            delay = self.delays[attempt]
            log.warning(
                "%s: %s %s failed (attempt %d), retrying in %ss: %s",
                self.service, envelope.type, envelope.id, attempt + 1, delay, error,
            )
            headers = dict(properties.headers or {}, **{ATTEMPT_HEADER: attempt + 1, ERROR_HEADER: error[:1000]})
            moved = self._move(channel, delivery.method, self.names.retry_queue(self.service, delay), delivery.body,
                               _copy(properties, headers))
            if moved:
                self.metrics.of(envelope.type).retried.inc()
            return moved
        log.error(
            "%s: %s %s failed after %d attempts, dead-lettered:\n%s",
            self.service, envelope.type, envelope.id, attempt + 1, failure.traceback,
        )
        return self._park(channel, delivery.method, properties, delivery.body, reason=error, attempts=attempt + 1)

    def _park(self, channel, method, properties, body, *, reason: str, attempts: int = 1) -> bool:
        headers = dict(
            (properties.headers or {}),
            **{
                ERROR_HEADER: reason[:2000],
                ATTEMPT_HEADER: attempts,
                "x-shop-routing-key": method.routing_key,
                "x-shop-service": self.service,
                "x-shop-failed-at": datetime.now(timezone.utc).isoformat(),
            },
        )
        dead_letters = self.names.dead_letter_queue(self.service)
        moved = self._move(channel, method, dead_letters, body, _copy(properties, headers))
        if moved:  # by the type it says it is, if this consumer knows that type
            self.metrics.of(self.metrics.known(properties.type)).parked.inc()
        return moved

    def _move(self, channel, method, queue: str, body: bytes, properties: pika.BasicProperties) -> bool:
        """Publish a failed delivery to a retry or dead-letter queue; False if it did not get there.

        The consuming channel is in confirm mode and the publish is
        ``mandatory``: a queue that is gone (deleted by hand) returns the
        message, a queue that refuses it nacks it, and either raises here
        instead of passing for done. The delivery is then not acknowledged
        but requeued, and the topology declared again so that the next try
        finds the queue.
        """
        try:
            channel.basic_publish("", queue, body, properties, mandatory=True)
            return True
        except (pika.exceptions.UnroutableError, pika.exceptions.NackError) as exc:
            log.error("%s: message %s could not be moved to %s (%s); it goes back to %s",
                      self.service, properties.message_id, queue, type(exc).__name__, self.names.queue(self.service))
        channel.basic_nack(method.delivery_tag, requeue=True)
        declare_service(channel, self.service, self.names, self.handlers)
        return False


def _take(claims: set[tuple[uuid.UUID, str]], envelope: Envelope, handler: Handler) -> bool:
    """Whether this transaction claimed ``handler``'s inbox row for ``envelope`` and no copy of it has run yet."""
    key = (envelope.id, handler.key)
    if key not in claims:
        return False
    claims.remove(key)  # a second copy of the message in the same batch is a duplicate
    return True


def _more_waiting(channel) -> bool:
    """Whether another delivery is already in this process (read from the socket without waiting)."""
    consumer = getattr(channel, "_queue_consumer_generator", None)
    if consumer is None:
        return False
    if not consumer.pending_events:
        channel.connection.process_data_events(time_limit=0)
    return bool(consumer.pending_events)


def _take_waiting(channel) -> list[tuple]:
    """The deliveries already in this process, taken out of pika's buffer (cancelling would give them back)."""
    consumer = channel._queue_consumer_generator
    channel.connection.process_data_events(time_limit=0)
    taken = []
    while consumer.pending_events:
        event = consumer.pending_events.popleft()
        if hasattr(event, "body"):  # a delivery, not the broker cancelling the consumer
            taken.append((event.method, event.properties, event.body))
    return taken


def _copy(properties: pika.BasicProperties, headers: dict) -> pika.BasicProperties:
    return pika.BasicProperties(
        message_id=properties.message_id,
        type=properties.type,
        correlation_id=properties.correlation_id,
        app_id=properties.app_id,
        content_type=properties.content_type or "application/json",
        delivery_mode=pika.DeliveryMode.Persistent,
        timestamp=properties.timestamp,
        headers=headers,
    )

