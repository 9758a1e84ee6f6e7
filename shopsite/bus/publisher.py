"""Publishing outbox rows with publisher confirms.

Rows are published right after the transaction that recorded them commits,
from the process that wrote them; the relay's periodic sweep publishes
whatever that missed (the broker was away, the process died). A row is marked
sent only after the broker confirmed it, so a row is never lost; it may be
published twice, which the consumers' inboxes absorb.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from datetime import timedelta
from typing import Iterable

import pika
from django.apps import apps
from django.conf import settings
from django.db import connections, router
from django.db.models import F, Q
from django.utils import timezone

from .connection import BROKER_ERRORS, connect, declare_exchange
from .models import OutboxMessage
from .names import Names

log = logging.getLogger(__name__)

#: How long a sweep owns the rows it picked before another may take them.
CLAIM_LEASE = timedelta(seconds=30)


class Publisher:
    """A confirmed channel, opened lazily and reopened after a failure.

    After a failure it stays quiet for a growing pause, so a web request never
    waits on a broker that is down: its rows simply wait in the outbox.
    """

    MAX_PAUSE = 5.0

    def __init__(self, names: Names | None = None) -> None:
        self.names = names or Names.configured()
        self._connection: pika.BlockingConnection | None = None
        self._channel = None
        self._pause = 0.0
        self._quiet_until = 0.0

    def _ready_channel(self):
        if self._channel is not None and self._channel.is_open:
            return self._channel
        if time.monotonic() < self._quiet_until:
            return None
        try:
            self._connection = connect()
            channel = self._connection.channel()
            channel.confirm_delivery()
            declare_exchange(channel, self.names)
        except BROKER_ERRORS as exc:
            self._failed(exc)
            return None
        self._channel = channel
        self._pause = 0.0
        return channel

    def _failed(self, exc: BaseException) -> None:
        log.warning("broker unavailable for publishing: %r", exc)
        self.close()
        self._pause = min(self.MAX_PAUSE, max(0.25, self._pause * 2))
        self._quiet_until = time.monotonic() + self._pause

    def close(self) -> None:
        connection, self._connection, self._channel = self._connection, None, None
        if connection is not None and connection.is_open:
            try:
                connection.close()
            except BROKER_ERRORS:
                pass

    def publish_rows(self, outbox: type[OutboxMessage], rows: Iterable[OutboxMessage]) -> int:
        """Publish ``rows`` in order, mark the confirmed ones sent; return how many."""
        rows = list(rows)
        if not rows:
            return 0
        channel = self._ready_channel()
        if channel is None:
            return 0
        confirmed: list[uuid.UUID] = []
        copies = 2 if settings.BUS["PUBLISH_TWICE"] else 1
        try:
            for row in rows:
                for _ in range(copies):
                    channel.basic_publish(
                        exchange=self.names.exchange,
                        routing_key=row.type,
                        body=row.body.encode(),
                        properties=pika.BasicProperties(
                            message_id=str(row.id),
                            type=row.type,
                            correlation_id=str(row.correlation_id),
                            app_id=outbox._meta.app_label,
                            content_type="application/json",
                            delivery_mode=pika.DeliveryMode.Persistent,
                            timestamp=int(row.created_at.timestamp()) if row.created_at else None,
                        ),
                        # Unroutable means the topology is not declared yet: keep
                        # the row rather than let the broker drop the message.
                        mandatory=True,
                    )
                confirmed.append(row.id)
        except (pika.exceptions.UnroutableError, pika.exceptions.NackError) as exc:
            log.warning("broker did not take %s: %r", rows[len(confirmed)].type, exc)
            self._note_error(outbox, rows[len(confirmed)].id, exc)
        except BROKER_ERRORS as exc:
            self._failed(exc)
        finally:
            if confirmed:
                db = router.db_for_write(outbox)
                outbox.objects.using(db).filter(id__in=confirmed).update(
                    sent_at=timezone.now(), attempts=F("attempts") + 1, claimed_by=None, claimed_until=None
                )
        return len(confirmed)

    @staticmethod
    def _note_error(outbox: type[OutboxMessage], row_id: uuid.UUID, exc: BaseException) -> None:
        db = router.db_for_write(outbox)
        outbox.objects.using(db).filter(id=row_id).update(attempts=F("attempts") + 1, last_error=repr(exc)[:1000])


_local = threading.local()


def process_publisher() -> Publisher:
    """This thread's publisher (pika connections are not thread-safe)."""
    publisher = getattr(_local, "publisher", None)
    if publisher is None or publisher.names != Names.configured():
        publisher = _local.publisher = Publisher()
    return publisher


class _PublishAfterCommit:
    """One callback per transaction and outbox, publishing every row it recorded."""

    def __init__(self, outbox: type[OutboxMessage], db: str) -> None:
        self.outbox, self.db, self.ids = outbox, db, []

    def __call__(self) -> None:
        # Rows of a rolled-back savepoint are simply not found.
        rows = self.outbox.objects.using(self.db).filter(id__in=self.ids, sent_at__isnull=True).order_by("created_at")
        try:
            process_publisher().publish_rows(self.outbox, rows)
        except Exception:  # the sweep will publish them; the commit already happened
            log.exception("publishing after commit failed; the relay will retry")


def publish_after_commit(outbox: type[OutboxMessage], message_id: uuid.UUID, *, using: str) -> None:
    if not settings.BUS["PUBLISH_ON_COMMIT"]:
        return
    pending = next(
        (
            callback
            for _, callback, _ in connections[using].run_on_commit
            if isinstance(callback, _PublishAfterCommit) and callback.outbox is outbox
        ),
        None,
    )
    if pending is None:
        pending = _PublishAfterCommit(outbox, using)
        connections[using].on_commit(pending)
    pending.ids.append(message_id)


def outboxes() -> list[type[OutboxMessage]]:
    return [apps.get_model(service, "OutboxMessage") for service in settings.SERVICES]


def sweep(publisher: Publisher, *, batch: int = 500, grace: timedelta | None = None,
          only: list[type[OutboxMessage]] | None = None) -> int:
    """Publish every outbox row left unsent; return how many went out."""
    if grace is None:
        # Fresh rows belong to the process that wrote them, which publishes
        # them right after its commit; only older ones are the sweep's.
        grace = timedelta(seconds=2) if settings.BUS["PUBLISH_ON_COMMIT"] else timedelta(0)
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
    return published
