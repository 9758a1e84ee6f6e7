"""Following one order's messages through every service's outbox and inbox.

Only the bus's own tables are read, found by name like the consumer finds
them, so the trace knows nothing of what the services store. A message is
"published" by the service whose outbox holds it and "handled" by every
(service, handler) whose inbox records its id.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Iterable

from django.apps import apps
from django.conf import settings
from django.db import router
from django.db.models import Q

#: How many order ids a partial id may match before we stop looking.
MAX_MATCHES = 20


def outbox_table(service: str):
    return apps.get_model(service, "OutboxMessage")


def inbox_table(service: str):
    return apps.get_model(service, "InboxMessage")


def _rows(model):
    return model.objects.using(router.db_for_read(model))


@dataclass(frozen=True)
class Hop:
    """One consumer's handling of a message."""

    service: str
    handler: str
    processed_at: datetime
    delay_ms: int | None  # since the producer recorded it; None when no outbox holds the message

    @property
    def handler_name(self) -> str:
        """The handler's key without its service, which is shown beside it."""
        return self.handler.rsplit(".", 1)[-1]


@dataclass(frozen=True)
class TracedMessage:
    id: uuid.UUID
    type: str
    producer: str | None  # None: no outbox here holds it (published from outside the shop)
    correlation_id: uuid.UUID
    causation_id: uuid.UUID | None
    created_at: datetime | None
    sent_at: datetime | None
    hops: tuple[Hop, ...]

    @property
    def started_at(self) -> datetime:
        """When the message entered the flow, as far as the tables tell."""
        if self.created_at is not None:
            return self.created_at
        return min(hop.processed_at for hop in self.hops)

    @property
    def publish_delay_ms(self) -> int | None:
        if self.created_at is None or self.sent_at is None:
            return None
        return _ms(self.sent_at - self.created_at)


@dataclass(frozen=True)
class Trace:
    correlation_ids: tuple[uuid.UUID, ...]
    messages: tuple[TracedMessage, ...]

    @property
    def started_at(self) -> datetime | None:
        return self.messages[0].started_at if self.messages else None

    def offset_ms(self, moment: datetime) -> int:
        return _ms(moment - self.started_at)


def _ms(delta) -> int:
    return round(delta.total_seconds() * 1000)


def _order_id_pattern(order_id: str) -> str:
    # Envelopes are stored as compact JSON (see Envelope.to_json), so the
    # payload's key and value always appear exactly like this.
    return f'"order_id":"{order_id}'


def _payload_order_id(body: str) -> str | None:
    try:
        value = json.loads(body)["payload"].get("order_id")
    except (ValueError, KeyError, AttributeError, TypeError):
        return None
    return value if isinstance(value, str) else None


def find_order_ids(text: str) -> list[uuid.UUID]:
    """The order ids named in any outbox that start or end with ``text``: a whole id, or the number customers
    are shown (``shopsite.ids.short``: a time-ordered id's last characters, an older id's first ones), with or
    without the "#" the pages put before it."""
    part = text.strip().lower().removeprefix("#")
    if not re.fullmatch(r"[0-9a-f-]{4,36}", part):
        return []
    found: dict[uuid.UUID, None] = {}
    for service in settings.SERVICES:
        # The end of an id is followed by the closing quote; what else ends so is told apart below.
        bodies = _rows(outbox_table(service)).filter(
            Q(body__contains=_order_id_pattern(part)) | Q(body__contains=part + '"'))
        for body in bodies.values_list("body", flat=True)[: MAX_MATCHES * 10]:
            order_id = _payload_order_id(body)
            if order_id and (order_id.startswith(part) or order_id.endswith(part)):
                found[uuid.UUID(order_id)] = None
            if len(found) >= MAX_MATCHES:
                return list(found)
    return list(found)


def correlation_ids_for_order(order_id: uuid.UUID) -> list[uuid.UUID]:
    """Every flow that carried a message about this order, earliest first.

    The checkout's flow is the main one; a later change made by staff or the
    customer (shipping, a cancellation) starts a flow of its own.
    """
    first_seen: dict[uuid.UUID, datetime] = {}
    for service in settings.SERVICES:
        rows = _rows(outbox_table(service)).filter(body__contains=_order_id_pattern(str(order_id)) + '"')
        for correlation_id, created_at, body in rows.values_list("correlation_id", "created_at", "body"):
            if _payload_order_id(body) != str(order_id):
                continue
            if correlation_id not in first_seen or created_at < first_seen[correlation_id]:
                first_seen[correlation_id] = created_at
    return sorted(first_seen, key=first_seen.get)


def trace_order(order_id: uuid.UUID) -> Trace:
    return trace_flows(correlation_ids_for_order(order_id))


def trace_flows(correlation_ids: Iterable[uuid.UUID]) -> Trace:
    """Every message recorded or handled in these flows, in the order they entered them."""
    correlation_ids = tuple(correlation_ids)
    published = {}
    for service in settings.SERVICES:
        for row in _rows(outbox_table(service)).filter(correlation_id__in=correlation_ids):
            published[row.id] = (service, row)
    handled: dict[uuid.UUID, list[tuple[str, object]]] = {}
    for service in settings.SERVICES:
        for row in _rows(inbox_table(service)).filter(correlation_id__in=correlation_ids):
            handled.setdefault(row.message_id, []).append((service, row))

    messages = [
        _traced(message_id, published.get(message_id), handled.get(message_id, []))
        for message_id in {**dict.fromkeys(published), **dict.fromkeys(handled)}
    ]
    messages.sort(key=lambda m: (m.started_at, str(m.id)))
    return Trace(correlation_ids=correlation_ids, messages=tuple(messages))


def _traced(message_id: uuid.UUID, published, handled) -> TracedMessage:
    producer, outbox_row = published if published else (None, None)
    created_at = outbox_row.created_at if outbox_row else None
    hops = sorted(
        (
            Hop(
                service=service,
                handler=row.handler,
                processed_at=row.processed_at,
                delay_ms=_ms(row.processed_at - created_at) if created_at else None,
            )
            for service, row in handled
        ),
        key=lambda hop: (hop.processed_at, hop.service),
    )
    any_row = outbox_row or handled[0][1]
    return TracedMessage(
        id=message_id,
        type=any_row.type,
        producer=producer,
        correlation_id=any_row.correlation_id,
        causation_id=_causation(outbox_row.body) if outbox_row else None,
        created_at=created_at,
        sent_at=outbox_row.sent_at if outbox_row else None,
        hops=tuple(hops),
    )


def _causation(body: str) -> uuid.UUID | None:
    try:
        value = json.loads(body).get("causation_id")
        return uuid.UUID(value) if value else None
    except (ValueError, AttributeError, TypeError):
        return None
