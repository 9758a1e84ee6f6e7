"""Helpers for the tests of every service."""

from __future__ import annotations

import json

from django.apps import apps
from django.conf import settings
from django.db import router, transaction

from shopsite import contracts
from shopsite.bus.connection import subscriptions
from shopsite.bus.envelope import Envelope
from shopsite.bus.models import OutboxMessage


def recorded(outbox: type[OutboxMessage], type: str | None = None) -> list[dict]:
    """The payloads a service recorded in its outbox, oldest first."""
    rows = outbox.objects.using(router.db_for_read(outbox)).order_by("created_at", "id")
    if type is not None:
        rows = rows.filter(type=type)
    return [json.loads(row.body)["payload"] for row in rows]


def deliver_everything(*, rounds: int = 50) -> int:
    """The bus, in this process: every unsent outbox row of every service, oldest first, to the handlers of
    every service subscribed to its type, until no service has anything left to send; how many were delivered.

    Each message goes through its JSON envelope and is checked against its contract on the way, as the real
    consumer does, so a message no consumer could take fails here. Nothing is retried: a handler's error is
    the test's. For unit tests of a whole flow; the real consumers are tested against the real broker.
    """
    delivered = 0
    for _ in range(rounds):
        unsent = sorted(
            (row for service in settings.SERVICES
             for row in apps.get_model(service, "OutboxMessage").objects.filter(sent_at__isnull=True)),
            key=lambda row: row.created_at,
        )
        if not unsent:
            return delivered
        for row in unsent:
            message = Envelope.from_json(row.body).message()
            for service in settings.SERVICES:
                handlers = subscriptions(service).get(type(message), ())
                with consumer_transaction(service):
                    for handler in handlers:
                        handler(message)
            type(row).objects.filter(pk=row.pk).update(sent_at=row.created_at)
            delivered += 1
    raise AssertionError(f"the services were still sending messages after {rounds} rounds")


def consumer_transaction(service: str):
    """The transaction a consumer holds for one message, for a test that calls a handler directly and expects
    it to fail: the error rolls back what the handler wrote, as in the consumer, and the test's own
    transaction goes on (the services' message steps take no savepoint of their own: shopsite/transactions.py)."""
    return transaction.atomic(using=settings.SERVICE_DATABASES[service])


#: A valid shipping address, as the API takes it.
ADDRESS = {"name": "Casey Customer", "line1": "1 Main St", "city": "Springfield", "region": "IL",
           "postal_code": "62701", "country": "US"}


def an_address(**changes) -> contracts.Address:
    """A valid shipping address, with ``changes``."""
    return contracts.Address(**{**ADDRESS, **changes})
