"""Keeping the bus's own rows to a retention period (``manage.py prune_bus``).

Every message leaves a row in its producer's outbox and one in a consumer's
inbox for each handler that applied it. The business tables keep what was
sold; these rows are only the bus's bookkeeping, needed while the message can
still come again:

- a **sent** outbox row is never published again (the publisher and the relay
  pick only unsent rows), so it serves the admin console's message trace only;
  an unsent row is never removed, however old: it has not been published yet;
- an **inbox** row makes a redelivery a no-op. A message comes again while a
  consumer holds it unacknowledged, or as a second copy published when a
  confirm was lost, waiting in the same queue behind the first. So the
  retention period must be longer than any message can wait in a queue, that
  is longer than any consumer may stay stopped, and longer than a parked
  message may wait in a dead-letter queue before it is replayed: replaying
  one that was in fact handled changes nothing only while its inbox rows are
  there.

Rows go in batches, each deleted by one statement, so a consumer writing to
the same tables waits for one short delete at most. The walk follows each
table's key, which grows with time (the inbox's is a counter, the outbox's a
time-ordered UUID, ``shopsite/ids.py``): it stops after the first batch that
reaches a row recorded within the period, instead of reading the whole table
every day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.apps import apps
from django.db import router

#: Rows a step of the walk reads, and at most deletes with one statement.
BATCH = 1000


@dataclass(frozen=True)
class Pruned:
    service: str
    outbox: int
    inbox: int


def prune(service: str, *, before: datetime, batch: int = BATCH, dry_run: bool = False, whole: bool = False,
          using: str | None = None) -> Pruned:
    """Delete ``service``'s outbox rows sent before ``before`` and its inbox rows processed before it.

    ``whole``: walk every row, not only up to the period. An outbox row with a
    random id (written before the shop minted time-ordered ones) sorts after
    nearly every newer id, where the walk has stopped: such rows need one
    whole walk after an upgrade. ``using``: the database holding the rows, if
    not the service's own.
    """
    outbox = apps.get_model(service, "OutboxMessage")
    inbox = apps.get_model(service, "InboxMessage")
    return Pruned(
        service,
        outbox=_prune(outbox, using, "created_at", "sent_at", before, batch, dry_run, whole),
        inbox=_prune(inbox, using, "processed_at", "processed_at", before, batch, dry_run, whole),
    )


def _prune(model, using: str | None, recorded: str, done: str, before: datetime, batch: int, dry_run: bool,
           whole: bool) -> int:
    """Walk ``model`` by its key, a batch at a time, deleting the rows whose ``done`` is before ``before``.

    Unless ``whole``, the walk ends at the first batch that ends with a row
    ``recorded`` after ``before``: every row further on was recorded later
    still. A null ``done`` (an outbox row not sent yet) is never before
    anything, so such rows stay.
    """
    rows = model.objects.using(using or router.db_for_write(model))
    deleted, last = 0, None
    while True:
        ahead = rows if last is None else rows.filter(pk__gt=last)
        page = list(ahead.order_by("pk").values_list("pk", recorded)[:batch])
        if not page:
            return deleted
        last, last_recorded = page[-1]
        # The window by its keys, with the age in the statement itself: what is deleted never rests on what
        # an earlier read said of a row.
        doomed = ahead.filter(pk__lte=last, **{f"{done}__lt": before})
        deleted += doomed.count() if dry_run else doomed.delete()[0]
        if last_recorded >= before and not whole:
            return deleted
