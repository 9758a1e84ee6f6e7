"""The bus against the real RabbitMQ: confirms, consuming, retries, dead letters, restarts."""

import time
import uuid

import pika
import pytest
from django.db import transaction

from catalog.models import InboxMessage, OutboxMessage
from shopsite import contracts
from shopsite.bus import background, deployment
from shopsite.bus.connection import connect, declare_service
from shopsite.bus.consumer import Consumer
from shopsite.bus.deadletters import list_dead_letters, replay_dead_letters
from shopsite.bus.envelope import Envelope
from shopsite.bus.handlers import Handler
from shopsite.bus.publisher import Publisher, sweep

pytestmark = [pytest.mark.broker, pytest.mark.django_db(databases=["catalog"], transaction=True)]

SERVICE = "catalog"


def released(order_id=None) -> contracts.StockReleased:
    return contracts.StockReleased(order_id=order_id or uuid.uuid4(), lines=[])


def record(*messages) -> list[Envelope]:
    """Record ``messages`` in one transaction; returns once the process's background publisher has dealt
    with them (published them, or left them to the relay), so the test's next query never meets the thread's
    (the in-memory SQLite test database refuses a second writer outright)."""
    with transaction.atomic(using="catalog"):
        envelopes = [OutboxMessage.record(m) for m in messages]
    assert background.drain(10)
    return envelopes


def consume(consumer: Consumer, until, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    consumer.run(until=lambda: until() or time.monotonic() > deadline)


def raw_publish(names, body: bytes, routing_key: str = "stock.released", headers=None) -> None:
    """Publish ``body`` by hand; with ``headers`` None, marked as this deployment's as the publisher does."""
    connection = connect()
    channel = connection.channel()
    channel.confirm_delivery()
    headers = deployment.mark() if headers is None else headers
    channel.basic_publish(names.exchange, routing_key, body, pika.BasicProperties(headers=headers))
    connection.close()


@pytest.fixture
def calls():
    return []


def declared(handler) -> Consumer:
    """A consumer of stock.released with ``handler``, its queue declared before anything is published."""
    consumer = Consumer(SERVICE, handlers={contracts.StockReleased: Handler("catalog.test-handler", handler)})
    connection = connect()
    declare_service(connection.channel(), SERVICE, consumer.names, consumer.handlers)
    connection.close()
    return consumer


@pytest.fixture
def consumer(bus_names, calls):
    return declared(lambda message: calls.append(message.order_id))


def dead_letters():
    return list_dead_letters(SERVICE)


def test_recorded_messages_are_published_with_confirms_right_after_commit(consumer, calls):
    envelopes = record(released(), released())

    assert OutboxMessage.objects.filter(sent_at__isnull=True).count() == 0
    consume(consumer, until=lambda: len(calls) == 2)
    assert calls == [uuid.UUID(e.payload["order_id"]) for e in envelopes]
    assert InboxMessage.objects.count() == 2


def test_nothing_is_published_when_the_transaction_rolls_back(consumer, calls):
    with pytest.raises(RuntimeError), transaction.atomic(using="catalog"):
        OutboxMessage.record(released())
        raise RuntimeError("business rule broken")
    kept = record(released())[0]

    consume(consumer, until=lambda: len(calls) >= 1, timeout=3)
    assert calls == [uuid.UUID(kept.payload["order_id"])]


def test_a_duplicate_delivery_is_handled_once(consumer, calls):
    envelope = record(released())[0]
    Publisher().publish_rows(OutboxMessage, OutboxMessage.objects.filter(id=envelope.id))  # again

    consume(consumer, until=lambda: consumer.handled == 2)
    assert calls == [uuid.UUID(envelope.payload["order_id"])]
    assert InboxMessage.objects.filter(message_id=envelope.id).count() == 1


def test_a_failing_handler_is_retried_with_delay_then_dead_lettered(bus_names, settings):
    attempts = []

    def always_fails(message):
        attempts.append(time.monotonic())
        raise ValueError("the warehouse is on fire")

    consumer = declared(always_fails)
    envelope = record(released())[0]

    consume(consumer, until=lambda: len(dead_letters()) == 1)

    delays = settings.BUS["RETRY_DELAYS"]
    assert len(attempts) == len(delays) + 1
    gaps = [b - a for a, b in zip(attempts, attempts[1:])]
    assert all(gap >= delay * 0.9 for gap, delay in zip(gaps, delays))
    [letter] = dead_letters()
    assert letter.message_id == str(envelope.id)
    assert "ValueError: the warehouse is on fire" in letter.error
    assert letter.attempts == len(delays) + 1
    assert InboxMessage.objects.count() == 0  # the failed attempts left nothing behind


def test_a_handler_that_fails_once_succeeds_on_retry(bus_names):
    seen = []

    def flaky(message):
        seen.append(message.order_id)
        if len(seen) == 1:
            raise ConnectionError("payment gateway timed out")

    consumer = declared(flaky)
    record(released())

    consume(consumer, until=lambda: InboxMessage.objects.count() == 1)
    assert len(seen) == 2
    assert dead_letters() == []


@pytest.mark.parametrize(
    "body, routing_key, reason",
    [
        (b"{oops", "stock.released", "malformed JSON"),
        (b'{"id": 1}', "stock.released", "not an envelope"),
        (None, "stock.released", "version 9 is not supported"),
        (None, "stock.released", "payload does not match"),
    ],
)
def test_an_invalid_message_is_dead_lettered_at_once(consumer, calls, bus_names, body, routing_key, reason):
    if body is None:
        envelope = Envelope.wrap(released(), producer="catalog", correlation_id=uuid.uuid4())
        data = envelope.to_json()
        body = (data.replace('"version":1', '"version":9') if "version 9" in reason
                else data.replace('"lines":[]', '"lines":"many"')).encode()
    raw_publish(bus_names, body, routing_key)
    good = record(released())[0]

    consume(consumer, until=lambda: len(calls) == 1 and len(dead_letters()) == 1)
    [letter] = dead_letters()
    assert reason in letter.error
    assert calls == [uuid.UUID(good.payload["order_id"])]  # the consumer kept serving


def test_replay_brings_a_dead_letter_back_once_its_cause_is_fixed(bus_names):
    broken = {"on": True}
    handled = []

    def sometimes_broken(message):
        if broken["on"]:
            raise RuntimeError("bug")
        handled.append(message.order_id)

    consumer = declared(sometimes_broken)
    envelope = record(released())[0]
    consume(consumer, until=lambda: len(dead_letters()) == 1)

    broken["on"] = False
    assert replay_dead_letters(SERVICE) == 1
    consume(consumer, until=lambda: handled)
    assert handled == [uuid.UUID(envelope.payload["order_id"])]
    assert dead_letters() == []


def test_a_message_from_another_deployment_on_the_same_queues_is_parked_unhandled(consumer, calls, settings):
    # Two shops on one broker with one prefix: the other one's publisher marks its own deployment.
    ours = settings.BUS["DEPLOYMENT"]
    settings.BUS = {**settings.BUS, "DEPLOYMENT": "other-shop"}
    theirs = record(released())[0]
    settings.BUS = {**settings.BUS, "DEPLOYMENT": ours}
    mine = record(released())[0]

    consume(consumer, until=lambda: len(calls) == 1 and len(dead_letters()) == 1)
    [letter] = dead_letters()
    assert letter.message_id == str(theirs.id)
    assert f"not for this deployment ({ours!r}): published by deployment 'other-shop'" in letter.error
    assert calls == [uuid.UUID(mine.payload["order_id"])]
    assert list(InboxMessage.objects.values_list("message_id", flat=True)) == [mine.id]


def test_an_unmarked_message_is_parked_unhandled_and_a_replay_takes_it_in(consumer, calls, bus_names):
    unmarked = Envelope.wrap(released(), producer="catalog", correlation_id=uuid.uuid4())
    foreign = Envelope.wrap(released(), producer="catalog", correlation_id=uuid.uuid4())
    raw_publish(bus_names, unmarked.to_json().encode(), headers={})
    raw_publish(bus_names, foreign.to_json().encode(), headers={deployment.HEADER: "other-shop"})

    consume(consumer, until=lambda: len(dead_letters()) == 2)
    assert calls == []
    assert any("has no x-shop-deployment header" in letter.error for letter in dead_letters())

    # Replayed from this shop's own dead letters, the unmarked one (queued before
    # the shop marked its messages) is taken in; the other shop's is refused again.
    assert replay_dead_letters(SERVICE) == 2
    consume(consumer, until=lambda: calls and len(dead_letters()) == 1)
    assert calls == [uuid.UUID(unmarked.payload["order_id"])]
    assert "published by deployment 'other-shop'" in dead_letters()[0].error


@pytest.fixture
def on_lone_broker(lone_broker, settings):
    """The test's bus is the session's one-node broker (it is stopped; the broker on 5672 is shared)."""
    settings.BUS = {**settings.BUS, "URL": lone_broker.bus_url()}
    return lone_broker.nodes[0]


def wait_for(condition, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def test_the_relay_keeps_rows_while_the_broker_is_away_and_publishes_them_after(on_lone_broker, consumer, calls,
                                                                                 settings):
    settings.BUS = {**settings.BUS, "PUBLISH_ON_COMMIT": False}
    relay = Publisher()
    on_lone_broker.stop_app()
    try:
        envelopes = record(released(), released(), released())
        assert sweep(relay, only=[OutboxMessage]) == 0
        assert OutboxMessage.objects.filter(sent_at__isnull=True).count() == 3
    finally:
        on_lone_broker.start_app()  # and waits until it runs

    wait_for(lambda: sweep(relay, only=[OutboxMessage]) or OutboxMessage.objects.filter(sent_at__isnull=True).count() == 0, 30)
    assert OutboxMessage.objects.filter(sent_at__isnull=True).count() == 0
    consume(consumer, until=lambda: len(calls) == 3)
    assert sorted(calls) == sorted(uuid.UUID(e.payload["order_id"]) for e in envelopes)


def test_a_handler_slower_than_the_heartbeat_keeps_its_connection_and_runs_once(bus_names, settings):
    settings.BUS = {**settings.BUS, "URL": settings.BUS["URL"].replace("heartbeat=30", "heartbeat=1")}
    assert "heartbeat=1" in settings.BUS["URL"]
    runs = []

    def slow(message):
        runs.append(message.order_id)
        time.sleep(6)  # six heartbeat intervals: the broker drops a connection silent for that long

    consumer = declared(slow)
    record(released())

    consume(consumer, until=lambda: consumer.handled == 1, timeout=30)
    consume(consumer, until=lambda: False, timeout=2)  # a redelivery would show up here
    assert len(runs) == 1
    assert consumer.connections_lost == 0
    assert InboxMessage.objects.count() == 1


def test_a_consumer_shows_it_is_ready_only_while_consuming(consumer):
    seen = []
    consume(consumer, until=lambda: seen.append(consumer.ready_file.exists()) or len(seen) > 3)

    assert seen[-1] is True
    assert not consumer.ready_file.exists()


def test_an_oversized_message_is_dead_lettered_unread(consumer, bus_names, settings, calls):
    settings.BUS = {**settings.BUS, "MAX_MESSAGE_BYTES": 1000}
    consumer.max_bytes = 1000
    raw_publish(bus_names, b"x" * 5000)

    consume(consumer, until=lambda: len(dead_letters()) == 1)
    assert "5000 bytes is over the 1000-byte limit" in dead_letters()[0].error
    assert calls == []


def test_a_publisher_left_idle_past_its_heartbeats_publishes_at_once_on_a_new_connection(bus_names, settings):
    settings.BUS = {**settings.BUS, "URL": settings.BUS["URL"].replace("heartbeat=30", "heartbeat=1"),
                    "PUBLISH_ON_COMMIT": False}
    declared(lambda message: None)
    publisher = Publisher()
    first = record(released())[0]
    assert publisher.publish_rows(OutboxMessage, OutboxMessage.objects.filter(id=first.id)) == 1

    time.sleep(6)  # silent well past two heartbeats: the broker hangs up
    second = record(released())[0]

    assert publisher.publish_rows(OutboxMessage, OutboxMessage.objects.filter(id=second.id)) == 1
