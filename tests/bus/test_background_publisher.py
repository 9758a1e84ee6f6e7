"""Publish-on-commit outside a consumer: the committing thread hands its rows to a background thread, and never
waits on the broker; what the thread cannot publish while the rows are young is the relay's."""

import time
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from catalog.models import OutboxMessage
from shopsite.bus import background
from shopsite.bus import publisher as publisher_module
from shopsite.bus.background import BackgroundPublisher
from shopsite.bus.connection import connect
from shopsite.bus.publisher import SETTLE_AFTER, WRITER_OWNS, Publisher, sweep
from tests.loopback import StalledListener, wait_for

from .test_rabbitmq import declared, record, released

pytestmark = [pytest.mark.broker, pytest.mark.django_db(databases=["catalog"], transaction=True)]

#: The stalled node's URL gives up on the handshake sooner than the default, so the test does not wait for it.
QUICK = "connection_attempts=1&socket_timeout=1&stack_timeout=2"


@pytest.fixture
def stalled():
    with StalledListener() as listener:
        yield listener


def queued(names, service: str = "catalog") -> list[str]:
    """The message ids waiting in the service's queue (taken off it)."""
    with connect() as connection:
        channel = connection.channel()
        ids = []
        while True:
            method, properties, _ = channel.basic_get(names.queue(service), auto_ack=True)
            if method is None:
                return ids
            ids.append(properties.message_id)


def test_the_thread_is_done_with_a_row_before_the_sweep_may_take_it():
    assert background.SEND_WITHIN + SETTLE_AFTER + background.CONFIRM_WAIT < WRITER_OWNS.total_seconds()


def waiting_in_queue(names, service: str = "catalog") -> int:
    with connect() as connection:
        return connection.channel().queue_declare(names.queue(service), passive=True).method.message_count


def test_rows_sent_a_moment_apart_are_marked_sent_together(bus_names, settings, monkeypatch):
    """The second row goes out before the first one's confirm is collected; both are marked in one UPDATE."""
    declared(lambda message: None)
    settings.BUS = {**settings.BUS, "PUBLISH_ON_COMMIT": False}
    monkeypatch.setattr(publisher_module, "SETTLE_AFTER", 60.0)  # nothing but the drain settles them in this test
    record(released(), released())
    first, second = OutboxMessage.objects.order_by("created_at")
    publisher = BackgroundPublisher(capacity=10)

    assert publisher.hand_over((OutboxMessage, first))
    wait_for(lambda: waiting_in_queue(bus_names) == 1, timeout=5, what="the first row to be published")
    assert publisher.hand_over((OutboxMessage, second))
    wait_for(lambda: waiting_in_queue(bus_names) == 2, timeout=5, what="the second row to be published")
    assert publisher.held() == 2  # both published, neither settled yet
    assert publisher.drain(10)

    marked = set(OutboxMessage.objects.values_list("sent_at", flat=True))
    assert len(marked) == 1 and None not in marked, marked  # one UPDATE marked both


def test_a_lone_row_is_marked_sent_soon_without_a_drain(bus_names, settings):
    declared(lambda message: None)
    settings.BUS = {**settings.BUS, "PUBLISH_ON_COMMIT": False}
    record(released())
    publisher = BackgroundPublisher(capacity=10)

    assert publisher.hand_over((OutboxMessage, OutboxMessage.objects.get()))
    wait_for(lambda: publisher.held() == 0, timeout=5, what="the row to be settled by the thread itself")
    assert OutboxMessage.objects.get().sent_at is not None
    assert waiting_in_queue(bus_names) == 1


def test_a_commit_does_not_wait_for_a_broker_that_never_answers(bus_names, settings, stalled):
    declared(lambda message: None)  # on the real broker, for the relay afterwards
    broker = settings.BUS["URL"]
    settings.BUS = {**settings.BUS, "URL": f"amqp://guest:guest@127.0.0.1:{stalled.port}/%2F?{QUICK}"}

    started = time.monotonic()
    with transaction.atomic(using="catalog"):
        envelope = OutboxMessage.record(released())
    committed = time.monotonic() - started

    assert committed < 0.5, f"the commit took {committed:.2f}s"
    wait_for(lambda: stalled.accepted, timeout=5, what="the background thread to try the stalled node")
    assert not background.drain(0.3)  # it is still waiting for the node's answer
    assert background.drain(10)  # then gives up, and leaves the row
    row = OutboxMessage.objects.get()
    assert (row.sent_at, row.attempts, row.claimed_by) == (None, 0, None)

    settings.BUS = {**settings.BUS, "URL": broker}
    assert sweep(Publisher(), only=[OutboxMessage], grace=timedelta(0)) == 1  # the relay's, once a node answers
    assert queued(bus_names) == [str(envelope.id)]


def test_a_row_the_thread_reaches_too_late_is_left_to_the_relay(bus_names, settings):
    declared(lambda message: None)
    settings.BUS = {**settings.BUS, "PUBLISH_ON_COMMIT": False}
    envelope = record(released())[0]
    row = OutboxMessage.objects.get()
    row.created_at = timezone.now() - timedelta(seconds=background.SEND_WITHIN + 0.1)  # as if it waited that long

    publisher = BackgroundPublisher(capacity=10)
    assert publisher.hand_over((OutboxMessage, row))
    assert publisher.drain(10)

    assert OutboxMessage.objects.get().sent_at is None
    assert queued(bus_names) == []  # not published: past SEND_WITHIN the sweep may take it any moment
    assert sweep(Publisher(), only=[OutboxMessage], grace=timedelta(0)) == 1
    assert queued(bus_names) == [str(envelope.id)]


def test_a_full_queue_leaves_the_row_to_the_relay_at_once(settings, stalled):
    settings.BUS = {**settings.BUS, "PUBLISH_ON_COMMIT": False,
                    "URL": f"amqp://guest:guest@127.0.0.1:{stalled.port}/%2F?{QUICK}"}
    for _ in range(3):
        record(released())
    rows = list(OutboxMessage.objects.order_by("created_at"))
    publisher = BackgroundPublisher(capacity=2)

    started = time.monotonic()
    taken = [publisher.hand_over((OutboxMessage, row)) for row in rows]

    assert taken == [True, True, False]
    assert time.monotonic() - started < 0.1
    assert publisher.drain(10)
    assert OutboxMessage.objects.filter(sent_at__isnull=True).count() == 3


def test_a_process_has_one_background_thread_and_it_never_holds_up_the_exit(bus_names):
    declared(lambda message: None)
    record(released())
    first = background._process_instance()
    record(released())

    assert background._process_instance() is first
    assert first._thread.daemon
    assert background.drain(5)
    assert len(queued(bus_names)) == 2
