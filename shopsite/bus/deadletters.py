"""Reading and replaying the messages parked in a service's dead-letter queue."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Iterator

import pika
from django.conf import settings

from . import deployment
from .connection import connect
from .consumer import ATTEMPT_HEADER, ERROR_HEADER
from .names import Names


@dataclass(frozen=True)
class DeadLetter:
    service: str
    message_id: str | None
    type: str | None
    error: str
    attempts: int
    failed_at: str | None
    body: bytes

    @property
    def payload(self) -> object:
        try:
            return json.loads(self.body).get("payload")
        except (ValueError, AttributeError):
            return None


def _letter(service: str, properties: pika.BasicProperties, body: bytes) -> DeadLetter:
    headers = properties.headers or {}
    return DeadLetter(
        service=service,
        message_id=properties.message_id,
        type=properties.type or headers.get("x-shop-routing-key"),
        error=str(headers.get(ERROR_HEADER) or _broker_reason(headers)),
        attempts=int(headers.get(ATTEMPT_HEADER, 0)),
        failed_at=headers.get("x-shop-failed-at"),
        body=body,
    )


def _broker_reason(headers: dict) -> str:
    """Why the broker itself dead-lettered a message (a quorum queue's delivery limit)."""
    deaths = headers.get("x-death") or []
    return f"dropped by the broker: {deaths[0].get('reason')}" if deaths else ""


def _drain(channel, queue: str, limit: int | None = None) -> Iterator[tuple]:
    taken = 0
    while limit is None or taken < limit:
        method, properties, body = channel.basic_get(queue, auto_ack=False)
        if method is None:
            return
        taken += 1
        yield method, properties, body


def list_dead_letters(service: str, names: Names | None = None) -> list[DeadLetter]:
    """Every parked message, left in place (unacknowledged gets go back on close)."""
    names = names or Names.configured()
    connection = connect()
    try:
        channel = connection.channel()
        return [_letter(service, p, b) for _, p, b in _drain(channel, names.dead_letter_queue(service))]
    finally:
        connection.close()


def replay_dead_letters(service: str, *, message_id: str | None = None, names: Names | None = None) -> int:
    """Send parked messages back to the service's queue with a fresh retry budget."""
    names = names or Names.configured()
    connection = connect()
    replayed = 0
    try:
        channel = connection.channel()
        channel.confirm_delivery()
        queue = names.dead_letter_queue(service)
        # Only what is parked now: a message that fails again while we replay
        # is parked anew behind us, and must not be replayed over and over.
        parked = channel.queue_declare(queue, passive=True).method.message_count
        for method, properties, body in _drain(channel, queue, limit=parked):
            if message_id is not None and properties.message_id != message_id:
                continue
            parked_headers = properties.headers or {}
            headers = {k: v for k, v in parked_headers.items() if not k.startswith("x-shop-")}
            # The deployment mark stays, so another shop's message is refused
            # again. An unmarked one (queued before the shop marked its
            # messages) is taken in: replaying it from this shop's own dead
            # letters vouches for it.
            headers[deployment.HEADER] = parked_headers.get(deployment.HEADER, settings.BUS["DEPLOYMENT"])
            properties.headers = {**headers, "x-shop-replayed": 1}
            channel.basic_publish("", names.queue(service), body, properties)
            channel.basic_ack(method.delivery_tag)
            replayed += 1
    finally:
        connection.close()
    return replayed
