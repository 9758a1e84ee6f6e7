"""Keeping the bus's rows to a retention period (``shopsite/bus/retention.py``, ``manage.py prune_bus``),
on SQLite and on PostgreSQL."""

import io
import uuid
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import connections
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from orders.models import InboxMessage, OutboxMessage
from shopsite.bus.retention import prune
from shopsite.ids import uuid7
from tests.postgres import fresh_database

pytestmark = pytest.mark.django_db(databases=["orders"])

PG = "retention_pg"
NOW = timezone.now()
CUTOFF = NOW - timedelta(days=30)


@pytest.fixture(params=["sqlite", "postgresql"])
def alias(request, django_db_blocker):
    if request.param == "sqlite":
        yield "orders"
        return
    with fresh_database(PG, django_db_blocker, [OutboxMessage, InboxMessage]) as name:
        yield name


def outbox_row(alias: str, days_ago: float, *, sent: bool = True, key: uuid.UUID | None = None) -> uuid.UUID:
    """An outbox row recorded ``days_ago`` (with a time-ordered id of that moment), sent a second later."""
    at = NOW - timedelta(days=days_ago)
    key = key or uuid7(at.timestamp())
    OutboxMessage.objects.using(alias).create(id=key, type="order.placed", body="{}", correlation_id=uuid.uuid4())
    # created_at is filled in on saving (auto_now_add): the past goes in afterwards.
    OutboxMessage.objects.using(alias).filter(id=key).update(
        created_at=at, sent_at=at + timedelta(seconds=1) if sent else None)
    return key


def inbox_row(alias: str, days_ago: float) -> int:
    row = InboxMessage.objects.using(alias).create(message_id=uuid7(), handler="orders.place_order",
                                                   type="cart.checked_out", correlation_id=uuid.uuid4())
    InboxMessage.objects.using(alias).filter(pk=row.pk).update(processed_at=NOW - timedelta(days=days_ago))
    return row.pk


def outbox_left(alias: str) -> set:
    return set(OutboxMessage.objects.using(alias).values_list("id", flat=True))


def inbox_left(alias: str) -> set:
    return set(InboxMessage.objects.using(alias).values_list("pk", flat=True))


def test_rows_older_than_the_period_go_and_the_rest_stay(alias):
    old_sent = [outbox_row(alias, days) for days in (60, 50, 40, 35, 31)]
    old_unsent = outbox_row(alias, 45, sent=False)  # never published: it must stay, however old
    recent = [outbox_row(alias, days) for days in (29, 5, 0)]
    old_handled = [inbox_row(alias, days) for days in (90, 60, 31)]
    recent_handled = [inbox_row(alias, days) for days in (20, 1)]

    pruned = prune("orders", before=CUTOFF, batch=2, using=alias)

    assert (pruned.outbox, pruned.inbox) == (len(old_sent), len(old_handled))
    assert outbox_left(alias) == {old_unsent, *recent}
    assert inbox_left(alias) == set(recent_handled)


def test_a_dry_run_counts_and_deletes_nothing(alias):
    for days in (60, 40, 10):
        outbox_row(alias, days)
        inbox_row(alias, days)
    before = outbox_left(alias), inbox_left(alias)

    pruned = prune("orders", before=CUTOFF, batch=2, dry_run=True, using=alias)

    assert (pruned.outbox, pruned.inbox) == (2, 2)
    assert (outbox_left(alias), inbox_left(alias)) == before


def test_the_walk_stops_where_the_period_begins(alias):
    """The rows within the period are not read: the walk ends with the first batch that reaches one."""
    for days in (50, 45, 40, 35):
        inbox_row(alias, days)
    for _ in range(40):
        inbox_row(alias, 1)

    with CaptureQueriesContext(connections[alias]) as logged:
        pruned = prune("orders", before=CUTOFF, batch=3, using=alias)

    assert pruned.inbox == 4
    reads = [q for q in logged.captured_queries
             if q["sql"].startswith("SELECT") and "orders_inboxmessage" in q["sql"]]
    assert len(reads) == 2  # [old, old, old], then [old, new, new]: 14 batches would cover the table


def test_a_whole_walk_reaches_old_rows_with_random_ids(alias):
    """An outbox row with a random id, written before ids were time-ordered, sorts after nearly every newer
    id; the daily walk has stopped before it, a whole walk reaches it."""
    legacy = outbox_row(alias, 400, key=uuid.UUID("f" + uuid.uuid4().hex[1:]))
    recent = {outbox_row(alias, days) for days in (3, 2, 1)}

    assert prune("orders", before=CUTOFF, batch=2, using=alias).outbox == 0
    assert legacy in outbox_left(alias)
    assert prune("orders", before=CUTOFF, batch=2, whole=True, using=alias).outbox == 1
    assert outbox_left(alias) == recent


@pytest.mark.django_db(databases="__all__")
def test_the_command_prunes_every_service_and_says_how_much():
    outbox_row("orders", 40)
    outbox_row("orders", 2)
    inbox_row("orders", 40)
    out = io.StringIO()

    call_command("prune_bus", stdout=out)

    lines = dict(line.split(": ", 1) for line in out.getvalue().splitlines())
    assert set(lines) == {"accounts", "catalog", "cart", "orders", "payments", "notifications"}
    assert lines["orders"].startswith("deleted 1 sent outbox rows and 1 inbox rows from before ")
    assert lines["cart"].startswith("deleted 0 sent outbox rows and 0 inbox rows")
    assert len(outbox_left("orders")) == 1


@pytest.mark.parametrize("days", ["0", "0.5", "-3", "nan"])
def test_the_command_refuses_a_period_shorter_than_a_day(days):
    with pytest.raises(CommandError, match="keep at least one day"):
        call_command("prune_bus", "--days", days, stdout=io.StringIO())
