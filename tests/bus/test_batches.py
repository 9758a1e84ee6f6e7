"""Deliveries already waiting are handled in one transaction; after a failure, each message in a savepoint of its own."""

import time
import uuid

import pika
import pytest
from django.db import connections, transaction
from django.test.utils import CaptureQueriesContext

from catalog.models import InboxMessage, OutboxMessage
from shopsite import contracts
from shopsite.bus import deployment
from shopsite.bus.deadletters import list_dead_letters
from shopsite.bus.envelope import Envelope
from shopsite.bus.publisher import Publisher

from .test_rabbitmq import SERVICE, consume, declared, record, released

pytestmark = [pytest.mark.broker, pytest.mark.django_db(databases=["catalog"], transaction=True)]

WAITING = 24


@pytest.fixture
def commits(monkeypatch):
    """How many transactions the catalog database committed."""
    counted = []
    connection = connections["catalog"]
    connection.ensure_connection()
    real_commit = type(connection).commit

    def commit(self):
        counted.append(time.monotonic())
        return real_commit(self)

    monkeypatch.setattr(type(connection), "commit", commit)
    return counted


def waiting(count: int) -> list[uuid.UUID]:
    """``count`` stock.released messages published and waiting in the queue; their order ids."""
    envelopes = record(*[released() for _ in range(count)])
    assert OutboxMessage.objects.filter(sent_at__isnull=True).count() == 0
    return [uuid.UUID(e.payload["order_id"]) for e in envelopes]


def replies() -> int:
    return OutboxMessage.objects.filter(type=contracts.StockRejected.TYPE).count()


def reply(message) -> None:
    """What a handler does at its smallest: a message of its own, in the same transaction."""
    OutboxMessage.record(contracts.StockRejected(order_id=message.order_id, shortages=[]))


def test_waiting_deliveries_share_a_transaction(bus_names, commits):
    consumer = declared(reply)
    waiting(WAITING)
    commits.clear()

    consume(consumer, until=lambda: consumer.handled == WAITING)

    assert InboxMessage.objects.count() == WAITING
    assert replies() == WAITING
    # One commit per batch (plus the updates that mark the replies sent), far fewer than one per message.
    assert len(commits) < WAITING / 2


def test_a_batch_claims_its_inbox_rows_in_one_statement_and_writes_its_outbox_rows_in_one(bus_names, commits):
    handled = []

    def note(message):
        handled.append(message.order_id)
        reply(message)

    consumer = declared(note)
    order_ids = waiting(WAITING)
    first = OutboxMessage.objects.order_by("created_at").first()
    Publisher().publish_rows(OutboxMessage, [first])  # the same message again, waiting with the others
    commits.clear()

    with CaptureQueriesContext(connections["catalog"]) as logged:
        consume(consumer, until=lambda: consumer.handled == WAITING + 1)

    inserts = [q["sql"] for q in logged.captured_queries if q["sql"].startswith("INSERT")]
    inbox = [sql for sql in inserts if sql.startswith(f'INSERT INTO "{InboxMessage._meta.db_table}"')]
    outbox = [sql for sql in inserts if sql.startswith(f'INSERT INTO "{OutboxMessage._meta.db_table}"')]
    assert len(inserts) == len(inbox) + len(outbox)
    # One of each a transaction (a batch), not one a message: the batches' commits, less the sent-marking ones.
    # A batch that held only the second copy claimed nothing new and recorded no reply: an inbox statement alone.
    assert 1 <= len(outbox) <= len(inbox) <= min(len(outbox) + 1, len(commits))
    assert len(commits) < WAITING / 2
    # The second copy (in the first's batch or a later one) was a duplicate: each message handled once, replied once.
    assert sorted(handled) == sorted(order_ids)
    assert InboxMessage.objects.count() == WAITING
    assert replies() == WAITING


def test_two_copies_of_a_message_in_one_batch_are_handled_once(bus_names, commits):
    handled = []
    consumer = declared(lambda message: handled.append(message.order_id))
    envelope = Envelope.wrap(released(), producer="catalog", correlation_id=uuid.uuid4())
    body = envelope.to_json().encode()
    copies = [consumer._decode(pika.spec.Basic.Deliver(delivery_tag=tag, redelivered=False),
                               pika.BasicProperties(headers=deployment.mark()), body) for tag in (1, 2)]
    commits.clear()

    assert consumer.apply_batch(copies) == []

    assert handled == [copies[0].message.order_id]
    assert len(commits) == 1  # one transaction: the batch, not a fallback
    assert InboxMessage.objects.filter(message_id=envelope.id).count() == 1


def test_a_row_recorded_in_a_savepoint_the_handler_rolls_back_is_not_written_with_the_batch(bus_names):
    class ChangedItsMind(Exception):
        pass

    def second_thoughts(message):
        try:
            with transaction.atomic(using="catalog"):  # a savepoint of the handler's own
                OutboxMessage.record(contracts.StockReleased(order_id=message.order_id, lines=[]))
                raise ChangedItsMind
        except ChangedItsMind:
            pass
        reply(message)

    consumer = declared(second_thoughts)
    waiting(WAITING)
    released_before = OutboxMessage.objects.filter(type=contracts.StockReleased.TYPE).count()

    consume(consumer, until=lambda: consumer.handled == WAITING)

    assert replies() == WAITING
    assert OutboxMessage.objects.filter(type=contracts.StockReleased.TYPE).count() == released_before


def test_a_batch_that_does_not_fail_takes_no_savepoints(bus_names, commits):
    in_savepoint = []

    def note(message):
        reply(message)
        in_savepoint.append(any(connections["catalog"].savepoint_ids))  # None: a nested block without one

    consumer = declared(note)
    waiting(WAITING)
    commits.clear()

    consume(consumer, until=lambda: consumer.handled == WAITING)

    assert len(commits) < WAITING / 2  # they came in batches
    assert in_savepoint == [False] * WAITING
    assert replies() == WAITING


def test_a_message_failing_in_a_batch_is_rolled_back_alone_and_tried_again_alone(bus_names):
    attempts = []
    order_ids = []

    def fails_once(message):
        reply(message)  # written before the failure: must disappear with its savepoint
        attempts.append(message.order_id)
        if message.order_id == order_ids[5] and attempts.count(message.order_id) == 1:
            raise ConnectionError("the gateway hiccupped")

    consumer = declared(fails_once)
    order_ids.extend(waiting(12))

    consume(consumer, until=lambda: consumer.handled == 12)

    assert attempts.count(order_ids[5]) == 2
    assert InboxMessage.objects.count() == 12
    assert replies() == 12  # the failed attempt's reply was rolled back, the others' were kept
    assert list_dead_letters(SERVICE) == []


def test_a_message_that_fails_alone_too_goes_on_to_its_retries_while_the_rest_commit(bus_names, settings):
    order_ids = []

    def one_is_broken(message):
        reply(message)
        if message.order_id == order_ids[3]:
            raise ValueError("this one is broken")

    consumer = declared(one_is_broken)
    order_ids.extend(waiting(10))

    consume(consumer, until=lambda: len(list_dead_letters(SERVICE)) == 1, timeout=20)

    [letter] = list_dead_letters(SERVICE)
    assert "ValueError: this one is broken" in letter.error
    assert letter.attempts == len(settings.BUS["RETRY_DELAYS"]) + 1
    assert InboxMessage.objects.count() == 9
    assert replies() == 9


def swallow_an_error() -> None:
    # A handler bug: an error inside atomic(savepoint=False), caught. Django
    # then rolls the whole transaction back when it ends, silently.
    try:
        with transaction.atomic(using="catalog", savepoint=False):
            raise ValueError("swallowed")
    except ValueError:
        pass


def test_a_transaction_that_cannot_commit_is_never_acknowledged_as_handled(bus_names, settings):
    order_ids = []

    def dooms_one(message):
        reply(message)
        if message.order_id == order_ids[2]:
            swallow_an_error()

    consumer = declared(dooms_one)
    order_ids.extend(waiting(8))

    consume(consumer, until=lambda: len(list_dead_letters(SERVICE)) == 1, timeout=20)

    [letter] = list_dead_letters(SERVICE)
    assert letter.message_id and "can no longer commit" in letter.error
    # The batch it was in fell back to one transaction a message: the others were handled once each.
    assert InboxMessage.objects.count() == 7
    assert replies() == 7


def test_a_quiet_queue_gives_batches_of_one(bus_names, commits):
    seen_in_savepoint = []

    def note(message):
        seen_in_savepoint.append(bool(connections["catalog"].savepoint_ids))

    consumer = declared(note)
    for round_ in range(1, 4):
        record(released())
        consume(consumer, until=lambda: len(seen_in_savepoint) == round_)

    assert seen_in_savepoint == [False, False, False]  # each alone, in a transaction of its own
