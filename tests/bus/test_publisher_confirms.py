"""The publisher's batched confirms keep the outbox's promise: a row is marked sent only once the broker took it."""

import uuid

import pytest
from django.db import transaction

from catalog.models import InboxMessage, OutboxMessage
from shopsite import contracts
from shopsite.bus import background
from shopsite.bus.connection import connect, declare_service
from shopsite.bus.consumer import Consumer
from shopsite.bus.handlers import Handler
from shopsite.bus.publisher import Publisher

pytestmark = [pytest.mark.broker, pytest.mark.django_db(databases=["catalog"], transaction=True)]


def released() -> contracts.StockReleased:
    return contracts.StockReleased(order_id=uuid.uuid4(), lines=[])


def rejected() -> contracts.StockRejected:
    return contracts.StockRejected(order_id=uuid.uuid4(), shortages=[])


def declare(handlers) -> Consumer:
    consumer = Consumer("catalog", handlers=handlers)
    connection = connect()
    declare_service(connection.channel(), "catalog", consumer.names, consumer.handlers)
    connection.close()
    return consumer


def test_in_one_batch_only_the_rows_the_broker_routed_are_marked_sent(bus_names, settings):
    settings.BUS = {**settings.BUS, "PUBLISH_ON_COMMIT": False}
    # Nothing is bound to stock.rejected.
    declare({contracts.StockReleased: Handler("catalog.test-nothing", lambda m: None)})
    with transaction.atomic(using="catalog"):
        routed = [OutboxMessage.record(released()) for _ in range(3)]
        unroutable = OutboxMessage.record(rejected())
        routed.append(OutboxMessage.record(released()))

    sent = Publisher().publish_rows(OutboxMessage, OutboxMessage.objects.order_by("created_at"))

    assert sent == 4
    assert set(OutboxMessage.objects.filter(sent_at__isnull=False).values_list("id", flat=True)) == {
        e.id for e in routed}
    kept = OutboxMessage.objects.get(id=unroutable.id)
    assert kept.sent_at is None and kept.last_error == "unroutable" and kept.attempts == 1


def test_a_rolled_back_savepoint_publishes_nothing_of_its_own(bus_names):
    calls = []
    consumer = declare({contracts.StockReleased: Handler("catalog.test-note", lambda m: calls.append(m.order_id))})
    with transaction.atomic(using="catalog"):
        kept = OutboxMessage.record(released())
        with pytest.raises(RuntimeError), transaction.atomic(using="catalog"):
            OutboxMessage.record(released())
            raise RuntimeError("this part is undone")
    assert background.drain(10)  # published by the process's background thread (see test_rabbitmq.record)

    consumer.run(until=lambda: len(calls) >= 1 or consumer.handled > 3)
    assert calls == [uuid.UUID(kept.payload["order_id"])]
    assert OutboxMessage.objects.count() == 1
    assert OutboxMessage.objects.get().sent_at is not None


def test_what_handlers_record_is_published_and_marked_sent_once_the_queue_is_idle(bus_names):
    """The consumer collects confirms for many deliveries at once; idle, it marks every row sent."""
    forwarded = []

    def forward(message: contracts.StockReleased) -> None:
        OutboxMessage.record(contracts.StockRejected(order_id=message.order_id, shortages=[]))

    consumer = declare({contracts.StockReleased: Handler("catalog.test-forward", forward),
                        contracts.StockRejected: Handler("catalog.test-note", forwarded.append)})
    with transaction.atomic(using="catalog"):
        for _ in range(40):
            OutboxMessage.record(released())
    assert background.drain(10)

    consumer.run(until=lambda: len(forwarded) == 40 and consumer.handled == 80)
    assert InboxMessage.objects.count() == 80
    assert OutboxMessage.objects.count() == 80
    assert OutboxMessage.objects.filter(sent_at__isnull=True).count() == 0


def test_the_oldest_unsettled_row_keeps_its_age_after_its_confirm_is_read(bus_names, settings):
    """``unsettled_since`` is when the oldest row not yet marked sent went out, confirmed or not: a row sent after
    the first one's confirm was read must not make the first look younger (it would be marked sent late, and
    past ``WRITER_OWNS`` the relay would publish it again)."""
    from tests.loopback import wait_for

    settings.BUS = {**settings.BUS, "PUBLISH_ON_COMMIT": False}
    declare({contracts.StockReleased: Handler("catalog.test-nothing", lambda m: None)})
    with transaction.atomic(using="catalog"):
        OutboxMessage.record(released())
        OutboxMessage.record(released())
    first, second = OutboxMessage.objects.order_by("created_at")
    publisher = Publisher()

    assert publisher.send([(OutboxMessage, first)]) == 1
    since = publisher.unsettled_since

    def first_confirmed() -> bool:
        publisher.flush()  # reads the confirm
        return len(publisher._flight.confirmed) == 1

    wait_for(first_confirmed, timeout=5, what="the first row's confirm")
    assert publisher.send([(OutboxMessage, second)]) == 1
    assert publisher.unsettled_since == since
    assert publisher.settle() == 2
