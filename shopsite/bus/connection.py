"""Connecting to RabbitMQ and declaring the topology, idempotently."""

from __future__ import annotations

import functools
import importlib
from typing import Callable, Iterable

import pika
from django.conf import settings
from pika.adapters.blocking_connection import BlockingChannel

from shopsite.contracts import Message

from .names import Names

#: What a lost or refused broker connection looks like to our loops.
BROKER_ERRORS = (pika.exceptions.AMQPError, OSError)

Handler = Callable[..., None]


def parameters() -> pika.URLParameters:
    params = pika.URLParameters(settings.BUS["URL"])
    # A publisher must never hang a web request on a broker under flow control.
    params.blocked_connection_timeout = 10
    return params


def connect() -> pika.BlockingConnection:
    return pika.BlockingConnection(parameters())


def broker_answers() -> bool:
    try:
        connect().close()
    except BROKER_ERRORS:
        return False
    return True


@functools.cache
def subscriptions(service: str) -> dict[type[Message], tuple[Handler, ...]]:
    """The service's handler mapping (``<service>.handlers.HANDLERS``).

    Found by name, as Django finds admin modules, so the bus never imports a
    service and each service stays free to import the bus.
    """
    mapping = importlib.import_module(f"{service}.handlers").HANDLERS
    return {kind: (h if isinstance(h, tuple) else (h,)) for kind, h in mapping.items()}


def batch_size(service: str) -> int:
    """How many waiting deliveries the service's consumer handles in one transaction.

    ``BUS["BATCH"]`` unless the service's handlers module says less
    (``BATCH_SIZE``): a service whose handlers act outside its database,
    such as sending an email, keeps the work a crash can repeat small.
    """
    module = importlib.import_module(f"{service}.handlers")
    return min(settings.BUS["BATCH"], getattr(module, "BATCH_SIZE", settings.BUS["BATCH"]))


def queue_arguments(extra: dict | None = None, *, delivery_limit: bool = True) -> dict:
    """The arguments of one of our queues: its type, then ``extra``, then what quorum mode adds.

    Quorum mode adds the delivery limit (unless ``delivery_limit`` is False)
    and, on a queue that dead-letters, at-least-once dead-lettering: the
    broker keeps the message until its destination has confirmed it, where
    the default (at-most-once) drops it if the destination is missing, full
    or has lost its majority. RabbitMQ (3.10+) only honours the strategy with
    ``x-overflow=reject-publish`` (and the ``stream_queue`` feature flag on)
    and otherwise silently falls back to at-most-once, hence both together.
    """
    arguments = {"x-queue-type": settings.BUS["QUEUE_TYPE"], **(extra or {})}
    if settings.BUS["QUEUE_TYPE"] == "quorum":
        if delivery_limit:
            arguments["x-delivery-limit"] = settings.BUS["DELIVERY_LIMIT"]
        if "x-dead-letter-exchange" in arguments:
            arguments["x-dead-letter-strategy"] = "at-least-once"
            arguments["x-overflow"] = "reject-publish"
    return arguments


def declare_exchange(channel: BlockingChannel, names: Names) -> None:
    channel.exchange_declare(names.exchange, exchange_type="topic", durable=True)


def declare_service(channel: BlockingChannel, service: str, names: Names | None = None,
                    message_types: Iterable[type[Message]] | None = None) -> None:
    """The service's queue with its bindings, its retry queues and its dead letters."""
    names = names or Names.configured()
    if message_types is None:
        message_types = subscriptions(service)
    declare_exchange(channel, names)
    queue = names.queue(service)
    # A quorum queue drops a message delivered too often (its consumer keeps
    # dying on it) to the dead-letter queue instead of looping forever.
    dead_letters = {"x-dead-letter-exchange": "", "x-dead-letter-routing-key": names.dead_letter_queue(service)}
    channel.queue_declare(queue, durable=True, arguments=queue_arguments(dead_letters))
    for kind in message_types:
        channel.queue_bind(queue, names.exchange, routing_key=kind.TYPE)
    for delay in settings.BUS["RETRY_DELAYS"]:
        channel.queue_declare(
            names.retry_queue(service, delay),
            durable=True,
            arguments=queue_arguments(
                {
                    "x-message-ttl": int(delay * 1000),
                    # When the delay is over the broker hands the message
                    # back to this service's queue only, not to every subscriber.
                    "x-dead-letter-exchange": "",
                    "x-dead-letter-routing-key": queue,
                }
            ),
        )
    # No delivery limit on the dead letters: the broker must never drop a
    # parked message, even one handed back by a listing that died half way
    # (a listing that runs to the end hands nothing back, see deadletters.py).
    channel.queue_declare(names.dead_letter_queue(service), durable=True,
                          arguments=queue_arguments(delivery_limit=False))


def declare_all(channel: BlockingChannel, services: Iterable[str] | None = None) -> None:
    for service in services or settings.SERVICES:
        declare_service(channel, service)
