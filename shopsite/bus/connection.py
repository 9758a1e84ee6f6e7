"""Connecting to RabbitMQ and declaring the topology, idempotently."""

from __future__ import annotations

import functools
import importlib
import random
import threading
from dataclasses import dataclass
from typing import Iterable

import pika
from django.conf import settings
from pika.adapters.blocking_connection import BlockingChannel
from pika.adapters.utils.connection_workflow import AMQPConnectorException

from shopsite.contracts import Message

from .handlers import Handler, handler_table
from .names import Names

#: What a lost or refused broker connection looks like to our loops. pika reports a node that
#: accepts the connection and then never answers (the handshake timed out) with neither of the first two.
BROKER_ERRORS = (pika.exceptions.AMQPError, OSError, AMQPConnectorException)


def split_urls(value: str) -> list[str]:
    """The broker's nodes: ``BUS_URL`` is one AMQP URL or several separated by commas.

    pika tries them in order; the ``connection_attempts`` and ``retry_delay``
    of the last one count for the whole list, the timeouts for each node.
    """
    return [url.strip() for url in value.split(",") if url.strip()]


def urls() -> list[str]:
    return split_urls(settings.BUS["URL"])


def node_parameters(url: str) -> pika.URLParameters:
    params = pika.URLParameters(url)
    # A publisher must never hang a web request on a broker under flow control.
    params.blocked_connection_timeout = 10
    return params


class NodeOrder:
    """The order in which a process tries the broker's nodes.

    Each process starts at a node of its own (so copies spread over the
    cluster), then keeps to the node that last answered; a node that failed
    to answer goes to the back, so a dead node costs one refused or timed-out
    attempt, not one on every reconnect.
    """

    def __init__(self, urls: list[str], start: int | None = None) -> None:
        start = random.randrange(len(urls)) if start is None else start
        self._urls = urls[start:] + urls[:start]
        self._lock = threading.Lock()  # the web's threads each connect on their own

    def __call__(self) -> list[str]:
        with self._lock:
            return list(self._urls)

    def answered(self, tried: list[str], url: str) -> None:
        """``url`` answered; the ones tried before it (in ``tried``'s order) did not."""
        failed = tried[: tried.index(url)]
        with self._lock:
            others = [u for u in self._urls if u != url and u not in failed]
            self._urls = [url, *others, *failed]


@functools.cache
def _node_order(setting: str) -> NodeOrder:
    return NodeOrder(split_urls(setting))


def parameters() -> list[pika.URLParameters]:
    """One per node, in the order this process tries them now."""
    return [node_parameters(url) for url in _node_order(settings.BUS["URL"])()]


def connect() -> pika.BlockingConnection:
    """A connection to the first node that answers (pika tries the list in order)."""
    order = _node_order(settings.BUS["URL"])
    tried = order()
    connection = pika.BlockingConnection([node_parameters(url) for url in tried])
    params = connection._impl.params  # pika's copy of the one that answered
    order.answered(tried, next(url for url in tried if _same_node(node_parameters(url), params)))
    return connection


def addresses() -> str:
    """The nodes' ``host:port``, for messages: never the credentials."""
    return ", ".join(f"{p.host}:{p.port}" for p in map(node_parameters, urls()))


def connected_node(connection: pika.BlockingConnection) -> str:
    """``host:port`` of the node ``connection`` went to."""
    params = connection._impl.params
    return f"{params.host}:{params.port}"


def _same_node(a: pika.ConnectionParameters, b: pika.ConnectionParameters) -> bool:
    return (a.host, a.port, a.virtual_host) == (b.host, b.port, b.virtual_host)


def broker_answers() -> bool:
    """Whether any of the broker's nodes answers."""
    try:
        connect().close()
    except BROKER_ERRORS:
        return False
    return True


@dataclass
class Backoff:
    """Pauses between reconnects: doubling up to ``cap``, each drawn between half and all of it.

    The jitter keeps the copies of every consumer, which lost the same node
    at the same moment, from all coming back at the same instant.
    """

    first: float = 0.5
    cap: float = 5.0
    failures: int = 0

    def next(self) -> float:
        ceiling = min(self.cap, self.first * 2 ** min(self.failures, 32))
        self.failures += 1
        return random.uniform(ceiling / 2, ceiling)

    def reset(self) -> None:
        self.failures = 0


@functools.cache
def subscriptions(service: str) -> dict[type[Message], tuple[Handler, ...]]:
    """The service's handler mapping (``<service>.handlers.HANDLERS``), its keys checked (``handlers.handler_table``).

    Found by name, as Django finds admin modules, so the bus never imports a
    service and each service stays free to import the bus.
    """
    return handler_table(service, importlib.import_module(f"{service}.handlers").HANDLERS)


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
