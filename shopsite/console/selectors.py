"""What the bus console shows: the outbox and inbox of each service, and its dead letters."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

import pika
from django.conf import settings
from django.db import router
from django.db.models import Max

from shopsite.bus.connection import BROKER_ERRORS, addresses, broker_answers
from shopsite.bus.deadletters import DeadLetter, list_dead_letters
from shopsite.bus.trace import inbox_table, outbox_table


@dataclass
class ServiceBus:
    service: str
    unsent: int
    sent: int
    failing: int  # unsent rows the broker refused at least once
    handled: int
    last_sent_at: datetime | None = None
    last_processed_at: datetime | None = None
    outbox: list = field(default_factory=list)
    inbox: list = field(default_factory=list)


@dataclass(frozen=True)
class ParkedMessage:
    """A dead letter as the console shows it."""

    letter: DeadLetter

    @property
    def failed_at(self) -> datetime | None:
        try:
            return datetime.fromisoformat(self.letter.failed_at) if self.letter.failed_at else None
        except ValueError:
            return None

    @property
    def body_text(self) -> str:
        try:
            return json.dumps(json.loads(self.letter.body), indent=2, sort_keys=True)
        except ValueError:
            return self.letter.body.decode("utf-8", errors="replace")


@dataclass
class DeadLetters:
    """The dead letters of some services, or why the broker could not be asked."""

    by_service: dict[str, list[ParkedMessage]]
    error: str = ""
    undeclared: list[str] = field(default_factory=list)  # no dead-letter queue yet: no consumer ran

    @property
    def reachable(self) -> bool:
        return not self.error

    @property
    def all(self) -> list[ParkedMessage]:
        return [letter for letters in self.by_service.values() for letter in letters]


def _rows(model):
    return model.objects.using(router.db_for_read(model))


def service_bus(service: str, *, latest: int = 0) -> ServiceBus:
    outbox, inbox = _rows(outbox_table(service)), _rows(inbox_table(service))
    unsent = outbox.filter(sent_at__isnull=True)
    return ServiceBus(
        service=service,
        unsent=unsent.count(),
        sent=outbox.filter(sent_at__isnull=False).count(),
        failing=unsent.exclude(last_error="").count(),
        handled=inbox.count(),
        last_sent_at=outbox.aggregate(last=Max("sent_at"))["last"],
        last_processed_at=inbox.aggregate(last=Max("processed_at"))["last"],
        outbox=list(outbox.order_by("-created_at")[:latest]) if latest else [],
        inbox=list(inbox.order_by("-processed_at", "-id")[:latest]) if latest else [],
    )


def bus_overview() -> list[ServiceBus]:
    return [service_bus(service) for service in settings.SERVICES]


def dead_letters(services: list[str]) -> DeadLetters:
    """Read live from RabbitMQ, left in place; a broker that is away is reported, not raised."""
    if not broker_answers():
        # Never the URLs themselves: they carry the broker's credentials.
        return DeadLetters({}, error=f"RabbitMQ is not reachable at {addresses()}.")
    found = DeadLetters({})
    for service in services:
        try:
            found.by_service[service] = [ParkedMessage(letter) for letter in list_dead_letters(service)]
        except BROKER_ERRORS as exc:
            if isinstance(exc, pika.exceptions.ChannelClosedByBroker) and exc.reply_code == 404:
                found.undeclared.append(service)
                continue
            return DeadLetters({}, error=f"RabbitMQ stopped answering while reading dead letters ({type(exc).__name__}).")
    return found

