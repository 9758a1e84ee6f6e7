"""The metrics, recorded where the work happens (shopsite/metrics.py), and the web's /metrics."""

import socket
import uuid
from decimal import Decimal

import pika
import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.test import Client
from prometheus_client import REGISTRY

from catalog.models import OutboxMessage as CatalogOutbox
from orders import handlers as order_handlers
from orders import services as order_services
from shopsite import contracts, metrics
from shopsite.bus import background
from shopsite.bus.connection import connect
from shopsite.bus.publisher import Publisher
from shopsite.testing import an_address
from tests.bus.test_rabbitmq import SERVICE, consume, declared, record, released

TYPE = contracts.StockReleased.TYPE


def sample(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


class Counts:
    """Samples read before and after, so that what other tests of the process counted does not matter."""

    def __init__(self, *names: tuple[str, dict]) -> None:
        self.names = names
        self.before = [sample(name, **labels) for name, labels in names]

    def added(self) -> list[float]:
        return [sample(name, **labels) - before for (name, labels), before in zip(self.names, self.before)]


def of(name: str, message_type: str = TYPE) -> tuple[str, dict]:
    return name, {"service": SERVICE, "type": message_type}


# --- the consumer -------------------------------------------------------------------


@pytest.mark.broker
@pytest.mark.django_db(databases=["catalog"], transaction=True)
def test_a_consumer_counts_handled_duplicate_and_times_its_handlers_and_batches(bus_names):
    counts = Counts(of("shop_messages_handled_total"), of("shop_messages_duplicate_total"),
                    of("shop_handler_duration_seconds_count"),
                    ("shop_batch_size_count", {"service": SERVICE}), ("shop_batch_duration_seconds_count",
                                                                      {"service": SERVICE}))
    consumer = declared(lambda message: None)
    record(released())
    Publisher().publish_rows(CatalogOutbox, CatalogOutbox.objects.all())  # the same message again

    consume(consumer, until=lambda: consumer.handled == 2)

    handled, duplicate, timed, batches, batch_timed = counts.added()
    assert (handled, duplicate, timed) == (2, 1, 2)
    assert batches == batch_timed and 1 <= batches <= 2
    assert sample("shop_consumer_connected", service=SERVICE) == 0  # it left the broker when it stopped


@pytest.mark.broker
@pytest.mark.django_db(databases=["catalog"], transaction=True)
def test_a_failing_message_counts_each_attempt_each_retry_and_its_parking(bus_names, settings):
    counts = Counts(of("shop_messages_failed_total"), of("shop_messages_retried_total"),
                    of("shop_messages_parked_total"), of("shop_messages_handled_total"))

    def fails(message):
        raise ValueError("the warehouse is on fire")

    consumer = declared(fails)
    record(released())
    consume(consumer, until=lambda: counts.added()[2] == 1)

    retries = len(settings.BUS["RETRY_DELAYS"])
    assert counts.added() == [retries + 1, retries, 1, 0]


@pytest.mark.broker
@pytest.mark.django_db(databases=["catalog"], transaction=True)
def test_a_message_that_cannot_be_read_is_parked_as_unknown(bus_names):
    counts = Counts(of("shop_messages_parked_total", "unknown"), of("shop_messages_parked_total"))
    consumer = declared(lambda message: None)
    connection = connect()
    channel = connection.channel()
    channel.confirm_delivery()
    from shopsite.bus import deployment

    channel.basic_publish(consumer.names.exchange, TYPE, b"not json",
                          pika.BasicProperties(headers=deployment.mark(), type="made.up"))
    connection.close()

    consume(consumer, until=lambda: counts.added()[0] == 1)
    assert counts.added() == [1, 0]


@pytest.mark.broker
@pytest.mark.django_db(databases=["catalog"], transaction=True)
def test_publishing_times_each_confirm_under_this_process_name(bus_names):
    counts = Counts(("shop_publish_confirm_seconds_count", {"process": metrics.process_name()}))
    with transaction.atomic(using="catalog"):
        for _ in range(3):
            CatalogOutbox.record(contracts.StockReleased(order_id=uuid.uuid4(), lines=[]))
    assert background.drain(10)

    assert counts.added() == [3]


# --- the relay's outbox gauges --------------------------------------------------------


def collected(collector) -> dict[tuple[str, str], float]:
    return {(family.name, s.labels["service"]): s.value for family in collector.collect() for s in family.samples}


@pytest.mark.django_db(databases=["catalog", "orders"], transaction=True)
def test_the_outbox_gauges_count_the_unsent_rows_and_the_age_of_the_oldest(settings):
    settings.BUS = {**settings.BUS, "PUBLISH_ON_COMMIT": False}
    from orders.models import OutboxMessage as OrdersOutbox

    collector = metrics.OutboxCollector([CatalogOutbox, OrdersOutbox])
    with transaction.atomic(using="catalog"):
        CatalogOutbox.record(contracts.StockReleased(order_id=uuid.uuid4(), lines=[]))
        CatalogOutbox.record(contracts.StockReleased(order_id=uuid.uuid4(), lines=[]))
    CatalogOutbox.objects.update(created_at=CatalogOutbox.objects.first().created_at.replace(year=2000))
    sent = CatalogOutbox.objects.first()
    CatalogOutbox.objects.filter(pk=sent.pk).update(sent_at=sent.created_at)

    values = collected(collector)

    assert values[("shop_outbox_unsent", "catalog")] == 1
    assert values[("shop_outbox_oldest_unsent_age_seconds", "catalog")] > 20 * 365 * 24 * 3600
    assert values[("shop_outbox_unsent", "orders")] == 0
    assert values[("shop_outbox_oldest_unsent_age_seconds", "orders")] == 0


# --- orders and checkouts -------------------------------------------------------------


def checked_out() -> contracts.CartCheckedOut:
    return contracts.CartCheckedOut(
        checkout_id=uuid.uuid4(), order_id=uuid.uuid4(), user_id=7, total=Decimal("9.50"),
        lines=[contracts.CheckoutLine(product_id=1, sku="MUG", name="Mug", unit_price=Decimal("9.50"), quantity=1)],
        shipping_address=an_address(), payment_method_id=uuid.uuid4(),
    )


@pytest.mark.django_db(databases=["orders"], transaction=True)
def test_an_order_counts_as_finished_only_once_its_transaction_committed():
    counts = Counts(("shop_orders_finished_total", {"status": "confirmed"}),
                    ("shop_orders_finished_total", {"status": "cancelled"}))
    kept, rolled_back = checked_out(), checked_out()
    for checkout in (kept, rolled_back):
        order_handlers.place_order(checkout)
        order_handlers.request_payment(contracts.StockReserved(order_id=checkout.order_id, lines=[]))

    with pytest.raises(RuntimeError), transaction.atomic(using="orders"):
        order_services.order_payment_succeeded(order_id=rolled_back.order_id, charge_id=uuid.uuid4(),
                                               amount=Decimal("9.50"))
        raise RuntimeError("the consumer's batch failed after it")
    assert counts.added() == [0, 0]

    order_services.order_payment_succeeded(order_id=kept.order_id, charge_id=uuid.uuid4(), amount=Decimal("9.50"))
    order_services.order_payment_failed(order_id=rolled_back.order_id, code="declined", reason="declined")
    assert counts.added() == [1, 1]


@pytest.mark.django_db(databases="__all__")
def test_a_refused_checkout_is_counted_as_refused():
    counts = Counts(("shop_checkouts_total", {"outcome": "refused"}), ("shop_checkouts_total", {"outcome": "accepted"}))

    answer = Client().post("/api/cart/checkout/", {}, content_type="application/json")

    assert answer.status_code in (401, 403)
    assert counts.added() == [1, 0]


# --- the web's /metrics and the servers' settings ----------------------------------------


@pytest.mark.django_db(databases="__all__")
def test_the_web_serves_metrics_to_the_allowed_addresses_only(settings):
    settings.SECURE_SSL_REDIRECT = True  # as in production: /metrics, like /healthz, is scraped over plain http

    allowed = Client(REMOTE_ADDR="127.0.0.1").get("/metrics")
    assert allowed.status_code == 200
    assert allowed["Content-Type"].startswith("text/plain")
    assert 'shop_checkouts_total{outcome="accepted"}' in allowed.content.decode()

    stranger = Client(REMOTE_ADDR="203.0.113.9")
    assert stranger.get("/metrics").status_code == 404
    # A forwarded address is not believed: the scraper talks to the process itself.
    assert stranger.get("/metrics", HTTP_X_FORWARDED_FOR="127.0.0.1").status_code == 404
    assert Client(REMOTE_ADDR="127.0.0.1").post("/metrics").status_code == 405


def test_the_allowed_addresses_may_be_networks(settings):
    from ipaddress import ip_network

    settings.METRICS = {**settings.METRICS, "ALLOWED_NETWORKS": (ip_network("10.0.0.0/8"), ip_network("::1"))}
    assert metrics.allowed("10.1.2.3") and metrics.allowed("::1")
    assert not metrics.allowed("127.0.0.1") and not metrics.allowed("not an address")


def test_no_port_no_metrics_server(settings, monkeypatch):
    monkeypatch.setattr(metrics, "_process", metrics.process_name())  # serve names the process
    settings.METRICS = {**settings.METRICS, "PORT": None}
    assert metrics.serve("relay") is False


def test_a_port_already_taken_stops_the_process_with_the_reason(settings, monkeypatch):
    monkeypatch.setattr(metrics, "_process", metrics.process_name())
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        settings.METRICS = {**settings.METRICS, "PORT": taken.getsockname()[1], "ADDRESS": "127.0.0.1"}
        with pytest.raises(ImproperlyConfigured, match="METRICS_PORT"):
            metrics.serve("relay")
