"""Every Prometheus metric of the shop, defined once (docs/operating.md, "Metrics").

| metric | type | labels | counted by | what |
|---|---|---|---|---|
| ``shop_messages_handled_total`` | counter | service, type | consumer | deliveries whose handlers committed (a duplicate too) |
| ``shop_messages_duplicate_total`` | counter | service, type | consumer | handled deliveries every handler had applied already |
| ``shop_messages_failed_total`` | counter | service, type | consumer | handler attempts that raised |
| ``shop_messages_retried_total`` | counter | service, type | consumer | failed deliveries sent to a retry queue |
| ``shop_messages_parked_total`` | counter | service, type | consumer | deliveries sent to the dead-letter queue ("unknown": not readable) |
| ``shop_handler_duration_seconds`` | histogram | service, type | consumer | one delivery's handlers |
| ``shop_batch_duration_seconds`` | histogram | service | consumer | one batch, its transaction included |
| ``shop_batch_size`` | histogram | service | consumer | deliveries in one batch |
| ``shop_batch_lock_conflicts_total`` | counter | service | consumer | batches that lost a race for a row lock and were handled one by one |
| ``shop_consumer_connected`` | gauge | service | consumer | 1 while connected and consuming, else 0 |
| ``shop_publish_confirm_seconds`` | histogram | process | publishers | from a publish to the broker's confirm |
| ``shop_outbox_unsent`` | gauge | service | relay | outbox rows not yet sent (read at scrape time) |
| ``shop_outbox_oldest_unsent_age_seconds`` | gauge | service | relay | age of the oldest of them (0: none) |
| ``shop_checkouts_total`` | counter | outcome | web | checkout answers: accepted, or refused (any 4xx) |
| ``shop_orders_finished_total`` | counter | status | orders | orders confirmed or cancelled, once committed |

Recording is a method call on a label child looked up once (per process,
service or message type), never a label lookup per message: the bus's own
work on a message is a few tens of microseconds, and metrics must not show in it.

Consumers and the relay serve the default registry (these metrics and the
process's own) on ``METRICS_PORT`` (``serve``). The web serves ``/metrics``
through Django (``view``); under gunicorn each worker writes its values to
files in ``PROMETHEUS_MULTIPROC_DIR`` (shopsite/gunicorn_config.py) and the
view adds up every worker's.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache
from ipaddress import ip_address

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError, connections, router, transaction
from django.db.models import Count, Min
from django.http import Http404, HttpResponse
from django.views.decorators.http import require_GET
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram, multiprocess, start_http_server
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import choose_encoder

log = logging.getLogger(__name__)

#: Handlers take milliseconds; a slow one (a mail server) seconds. The alert on p99 is at 1 s.
HANDLER_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
BATCH_SIZES = (1, 2, 4, 8, 16, 32, 64)
#: A confirm comes after the broker's fsync: milliseconds, seconds when it is under pressure.
CONFIRM_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
UNKNOWN_TYPE = "unknown"

messages_handled = Counter("shop_messages_handled", "Deliveries whose handlers committed (duplicates included).",
                           ["service", "type"])
messages_duplicate = Counter("shop_messages_duplicate", "Handled deliveries that every handler had applied already.",
                             ["service", "type"])
messages_failed = Counter("shop_messages_failed", "Handler attempts that raised.", ["service", "type"])
messages_retried = Counter("shop_messages_retried", "Failed deliveries sent to a retry queue.", ["service", "type"])
messages_parked = Counter("shop_messages_parked", "Deliveries sent to the dead-letter queue.", ["service", "type"])
handler_duration = Histogram("shop_handler_duration_seconds", "Time one delivery's handlers took.",
                             ["service", "type"], buckets=HANDLER_BUCKETS)
batch_duration = Histogram("shop_batch_duration_seconds", "Time one batch of deliveries took, its commit included.",
                           ["service"], buckets=HANDLER_BUCKETS)
batch_size = Histogram("shop_batch_size", "Deliveries handled in one batch.", ["service"], buckets=BATCH_SIZES)
batch_lock_conflicts = Counter("shop_batch_lock_conflicts", "Batches that lost a race for a row lock (handled one by one).",
                               ["service"])
consumer_connected = Gauge("shop_consumer_connected", "1 while the consumer is connected and consuming.",
                           ["service"], multiprocess_mode="liveall")
publish_confirm = Histogram("shop_publish_confirm_seconds", "Time from publishing a message to the broker's confirm.",
                            ["process"], buckets=CONFIRM_BUCKETS)
checkouts = Counter("shop_checkouts", "Checkout answers: accepted, or refused (a 4xx answer).", ["outcome"])
orders_finished = Counter("shop_orders_finished", "Orders that reached a final status (counted after the commit).",
                          ["status"])

# Present at 0 from the start, so that a rate or an absence check has a series to read.
CHECKOUT_ACCEPTED, CHECKOUT_REFUSED = checkouts.labels("accepted"), checkouts.labels("refused")
ORDER_FINISHED = {status: orders_finished.labels(status) for status in ("confirmed", "cancelled")}

#: Which process this is, for ``shop_publish_confirm_seconds``: "web" unless ``serve`` said otherwise.
_process = "web"


def process_name() -> str:
    return _process


# --- consumers ----------------------------------------------------------------


@dataclass(frozen=True)
class _TypeChildren:
    handled: Counter
    duplicate: Counter
    failed: Counter
    retried: Counter
    parked: Counter
    duration: Histogram


class ConsumerMetrics:
    """One consumer's metrics, a label child per message type made once.

    The types it handles are made at the start, so each counter is there at 0
    before the first message (an alert on "parked > 0" has a series to read).
    """

    def __init__(self, service: str, types: list[str]) -> None:
        self.service = service
        self._types: dict[str, _TypeChildren] = {}
        for message_type in [*types, UNKNOWN_TYPE]:
            self.of(message_type)
        self.batch_duration = batch_duration.labels(service)
        self.batch_size = batch_size.labels(service)
        self.lock_conflicts = batch_lock_conflicts.labels(service)
        self._connected = consumer_connected.labels(service)
        self._connected.set(0)

    def of(self, message_type: str) -> _TypeChildren:
        children = self._types.get(message_type)
        if children is None:
            labels = (self.service, message_type)
            children = self._types[message_type] = _TypeChildren(
                messages_handled.labels(*labels), messages_duplicate.labels(*labels),
                messages_failed.labels(*labels), messages_retried.labels(*labels),
                messages_parked.labels(*labels), handler_duration.labels(*labels),
            )
        return children

    def known(self, message_type: str | None) -> str:
        """``message_type`` if this consumer handles it, else "unknown": a label never takes a stranger's value."""
        return message_type if message_type in self._types else UNKNOWN_TYPE

    def handled(self, message_type: str, *, duplicate: bool) -> None:
        children = self.of(message_type)
        children.handled.inc()
        if duplicate:
            children.duplicate.inc()

    def batch(self, size: int, seconds: float) -> None:
        self.batch_size.observe(size)
        self.batch_duration.observe(seconds)

    def connected(self, connected: bool) -> None:
        self._connected.set(1 if connected else 0)


# --- after a commit -------------------------------------------------------------------


def order_finished(status: str, *, using: str) -> None:
    """Count an order that reached ``status`` when (and if) the transaction on ``using`` commits."""
    transaction.on_commit(ORDER_FINISHED[status].inc, using=using)


def checkout_answered(*, accepted: bool) -> None:
    (CHECKOUT_ACCEPTED if accepted else CHECKOUT_REFUSED).inc()


# --- the relay: the outboxes, read at scrape time --------------------------------


class OutboxCollector:
    """``shop_outbox_unsent`` and ``shop_outbox_oldest_unsent_age_seconds``, read when Prometheus scrapes.

    One query per service, on the partial index of unsent rows (a count and a
    minimum of ``created_at``), so a scrape costs a few index reads. It runs
    on the metrics server's thread, on connections of its own, closed after:
    each scrape comes on a new thread. A database that does not answer leaves
    its service out of the scrape (and the log says why).
    """

    def __init__(self, outboxes: list) -> None:
        self.outboxes = outboxes

    def describe(self):
        return []  # nothing to read at registration: the first scrape queries

    def collect(self):
        unsent = GaugeMetricFamily("shop_outbox_unsent", "Outbox rows not yet sent.", labels=["service"])
        oldest = GaugeMetricFamily("shop_outbox_oldest_unsent_age_seconds",
                                   "Age of the oldest outbox row not yet sent (0: none).", labels=["service"])
        now = datetime.now(timezone.utc)
        try:
            for outbox in self.outboxes:
                service = outbox._meta.app_label
                try:
                    found = (outbox.objects.using(router.db_for_read(outbox)).filter(sent_at__isnull=True)
                             .aggregate(count=Count("id"), oldest=Min("created_at")))
                except DatabaseError as exc:
                    log.warning("metrics: %s's outbox could not be read: %r", service, exc)
                    continue
                unsent.add_metric([service], found["count"])
                age = (now - found["oldest"]).total_seconds() if found["oldest"] else 0.0
                oldest.add_metric([service], max(0.0, age))
        finally:
            connections.close_all()
        yield unsent
        yield oldest


# --- serving ------------------------------------------------------------------


def serve(process: str, *, collectors: tuple = ()) -> bool:
    """Serve the metrics on ``METRICS_PORT`` (``METRICS_ADDRESS``) if it is set; whether it is.

    Names this process for the publish-confirm metric either way. A port
    that cannot be bound stops the process as it starts: a misconfiguration,
    better seen at once than as a target that is down.
    """
    global _process
    _process = process
    port = settings.METRICS["PORT"]
    if port is None:
        return False
    for collector in collectors:
        REGISTRY.register(collector)
    try:
        start_http_server(port, addr=settings.METRICS["ADDRESS"])
    except OSError as exc:
        raise ImproperlyConfigured(
            f"METRICS_PORT: cannot serve metrics on {settings.METRICS['ADDRESS']}:{port}: {exc}") from exc
    log.info("%s serves its metrics on http://%s:%d/metrics", process, settings.METRICS["ADDRESS"], port)
    return True


@lru_cache(maxsize=1)
def _web_registry():
    # Under gunicorn every worker writes its values to files; a scrape reaches
    # one worker, which adds up every worker's. The per-process collectors
    # (CPU, memory) cannot be added up across workers and are left out then.
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    return registry


def allowed(address: str) -> bool:
    """Whether the connection's own address may read the metrics; never a forwarded one: scrapers come direct."""
    try:
        ip = ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in settings.METRICS["ALLOWED_NETWORKS"])


@require_GET
def view(request):
    """The web's ``/metrics``: a 404 to anyone not in METRICS_ALLOWED_ADDRESSES, so it is not advertised."""
    if not allowed(request.META.get("REMOTE_ADDR", "")):
        raise Http404
    encode, content_type = choose_encoder(request.headers.get("Accept"))
    return HttpResponse(encode(_web_registry()), content_type=content_type)
