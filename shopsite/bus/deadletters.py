"""Reading and replaying the messages parked in a service's dead-letter queue.

AMQP has no way to read a queue without taking its messages. Taking one and
handing it back (``basic_get``, then requeue or close) is harmless on a
classic queue, but a quorum queue counts every return as a delivery: with a
delivery limit (RabbitMQ 4 sets 20 on every quorum queue unless told
otherwise) each listing would bring parked messages nearer to being dropped.
So a listing (and a replay of one message, for the others) never hands a
message back: it takes what is parked, puts a copy of each at the end of the
queue with a publisher confirm, and only then acknowledges the one it took.
A copy is a new message to the broker, its delivery count zero, so any
number of listings is harmless on both queue types and whatever limit the
broker or a policy applies. The order is kept (the copies go back in the
order they were taken, behind anything parked meanwhile); a listing that
dies half way leaves at worst one message twice, which a replay hands to the
idempotent consumer. Two listings at the same moment may each see part of
the queue, as before: neither loses anything.
"""

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


def _without_delivery_count(headers: dict | None) -> dict:
    # The count a quorum queue stamps on a delivery belongs to that queue, not to the message.
    return {k: v for k, v in (headers or {}).items() if k != "x-delivery-count"}


def _put_back(channel, queue: str, method, properties: pika.BasicProperties, body: bytes) -> None:
    """Leave a message we took in place without handing it back: a confirmed copy, then the ack."""
    properties.headers = _without_delivery_count(properties.headers)
    channel.basic_publish("", queue, body, properties, mandatory=True)
    channel.basic_ack(method.delivery_tag)


def list_dead_letters(service: str, names: Names | None = None) -> list[DeadLetter]:
    """Every parked message, left in place (see above: no listing counts as a delivery)."""
    names = names or Names.configured()
    queue = names.dead_letter_queue(service)
    connection = connect()
    letters = []
    try:
        channel = connection.channel()
        channel.confirm_delivery()
        # Only what is parked now, or we would read our own copies forever.
        parked = channel.queue_declare(queue, passive=True).method.message_count
        for method, properties, body in _drain(channel, queue, limit=parked):
            letters.append(_letter(service, properties, body))
            _put_back(channel, queue, method, properties, body)
    finally:
        connection.close()
    return letters


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
                _put_back(channel, queue, method, properties, body)
                continue
            parked_headers = _without_delivery_count(properties.headers)
            headers = {k: v for k, v in parked_headers.items() if not k.startswith("x-shop-")}
            # The deployment mark stays, so another shop's message is refused
            # again. An unmarked one (queued before the shop marked its
            # messages) is taken in: replaying it from this shop's own dead
            # letters vouches for it.
            headers[deployment.HEADER] = parked_headers.get(deployment.HEADER, settings.BUS["DEPLOYMENT"])
            properties.headers = {**headers, "x-shop-replayed": 1}
            # Mandatory: with the service's queue gone the message stays parked, unacknowledged.
            channel.basic_publish("", names.queue(service), body, properties, mandatory=True)
            channel.basic_ack(method.delivery_tag)
            replayed += 1
    finally:
        connection.close()
    return replayed
