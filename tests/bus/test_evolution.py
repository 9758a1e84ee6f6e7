"""How the contracts evolve (docs/messages.md): every type of a later version reads the one before and can be
sent as it; a pinned producer's message is what the previous release read; a pin that cannot be honoured stops
the process at start-up; a version newer than the consumer is parked with the reason and replayed after the
upgrade."""

import json
import uuid
from datetime import datetime, timezone
from decimal import Decimal

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction

from orders.models import OutboxMessage
from shopsite import contracts
from shopsite.bus.deadletters import replay_dead_letters
from shopsite.bus.envelope import Envelope
from shopsite.bus.versions import send_versions
from shopsite.countries import COUNTRIES
from shopsite.limits import (
    ADDRESS_CITY_LENGTH, ADDRESS_LINE_LENGTH, ADDRESS_NAME_LENGTH, ADDRESS_POSTAL_CODE_LENGTH, ADDRESS_REGION_LENGTH,
    ADDRESS_TEXT_LENGTH,
)
from shopsite.testing import an_address
from tests.bus.test_rabbitmq import SERVICE, consume, dead_letters, declared, raw_publish, released
from tests.rolling.previous_release import SHAPES
from tests.security.test_production import manage

# --- the rules every contract keeps ---------------------------------------


def evolution_problems(contract) -> list[str]:
    """What ``contract`` lacks to be read and sent across a rollout: N−1 read through an upcaster, sent
    through a downcaster."""
    if contract.VERSION == 1:
        return []
    previous = contract.VERSION - 1
    return [f"{contract.TYPE} v{contract.VERSION} has no {kind} for version {previous}"
            for kind, casters in [("upcaster", contract.UPCASTERS), ("downcaster", contract.DOWNCASTERS)]
            if previous not in casters]


@pytest.mark.parametrize("type_", sorted(contracts.MESSAGE_TYPES))
def test_every_type_of_a_later_version_reads_and_can_send_the_one_before(type_):
    assert evolution_problems(contracts.MESSAGE_TYPES[type_]) == []


def test_the_rule_catches_a_version_bumped_without_its_casters():
    class Bumped:
        TYPE, VERSION, UPCASTERS, DOWNCASTERS = "order.bumped", 3, {1: dict}, {2: dict}

    assert evolution_problems(Bumped) == ["order.bumped v3 has no upcaster for version 2"]


# --- sent as the previous version -----------------------------------------

CHECKOUT_LINE = contracts.CheckoutLine(product_id=1, sku="MUG", name="Mug", unit_price=Decimal("9.50"), quantity=2,
                                       image_url="/media/mug.jpg", thumbnail_url="/media/mug-400.jpg")
WHEN = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)


def samples(address: contracts.Address) -> dict[str, contracts.Message]:
    status = {"order_id": uuid.uuid4(), "user_id": 7, "total": Decimal("19.00"), "occurred_at": WHEN}
    return {
        "cart.checked_out": contracts.CartCheckedOut(
            checkout_id=uuid.uuid4(), order_id=uuid.uuid4(), user_id=7, lines=[CHECKOUT_LINE], total=Decimal("19.00"),
            shipping_address=address, payment_method_id=uuid.uuid4()),
        "order.confirmed": contracts.OrderConfirmed(**status, lines=[CHECKOUT_LINE], shipping_address=address),
        "order.shipped": contracts.OrderShipped(**status, shipping_address=address),
    }


def through_the_wire(message: contracts.Message, version: int) -> Envelope:
    envelope = Envelope.wrap(message, producer="test", correlation_id=uuid.uuid4(), version=version)
    return Envelope.from_json(envelope.to_json().encode())


@pytest.mark.parametrize("type_", sorted(SHAPES))
def test_a_message_sent_as_the_previous_version_is_what_the_previous_release_read(type_):
    known, strict = SHAPES[type_]

    arrived = through_the_wire(samples(an_address(line2="Apt 4"))[type_], version=known)

    assert arrived.version == known
    strict.model_validate(arrived.payload)  # any field version 1 did not have would be refused here


def test_a_checkout_sent_as_version_1_keeps_its_address_as_the_lines_it_is_written_in():
    address = an_address(line2="Apt 4")
    sent = samples(address)["cart.checked_out"]

    read = through_the_wire(sent, version=1).message()

    assert read.shipping_address == contracts.LegacyAddress(text="\n".join(address.lines()))
    assert read.shipping_address.lines() == address.lines()
    assert read.model_dump(exclude={"shipping_address"}) == sent.model_dump(exclude={"shipping_address"})


@pytest.mark.parametrize("type_", ["order.confirmed", "order.shipped"])
def test_an_order_message_sent_as_version_1_is_read_without_its_address(type_):
    sent = samples(an_address())[type_]

    read = through_the_wire(sent, version=1).message()

    assert read == sent.model_copy(update={"shipping_address": None})


def test_an_address_version_1_cannot_carry_goes_as_version_2_rather_than_cut_short():
    longest_country = max(COUNTRIES, key=lambda code: len(COUNTRIES[code]))
    address = contracts.Address(
        name="N" * ADDRESS_NAME_LENGTH, line1="L" * ADDRESS_LINE_LENGTH, line2="M" * ADDRESS_LINE_LENGTH,
        city="C" * ADDRESS_CITY_LENGTH, region="R" * ADDRESS_REGION_LENGTH,
        postal_code="P" * ADDRESS_POSTAL_CODE_LENGTH, country=longest_country,
    )
    sent = samples(address)["cart.checked_out"]

    envelope = through_the_wire(sent, version=1)

    assert envelope.version == 2
    assert envelope.message() == sent


def test_an_address_of_the_longest_text_version_1_holds_is_sent_as_version_1():
    line = "L" * ADDRESS_LINE_LENGTH
    address = contracts.Address(name="N" * 40, line1=line, line2="M" * 150, city="Berlin", postal_code="10115",
                                country="DE")
    sent = samples(address)["cart.checked_out"]
    assert len("\n".join(address.lines())) <= ADDRESS_TEXT_LENGTH

    envelope = through_the_wire(sent, version=1)

    assert envelope.version == 1
    assert envelope.message().shipping_address.lines() == address.lines()


def test_a_message_sent_as_its_own_version_is_unchanged():
    sent = samples(an_address())["order.shipped"]

    assert through_the_wire(sent, version=2).payload == sent.model_dump(mode="json")


@pytest.mark.parametrize(
    "message, version, reason",
    [
        (samples(an_address())["cart.checked_out"], 3, "cart.checked_out is sent as version 1 or 2, not 3"),
        (samples(an_address())["order.confirmed"], 0, "order.confirmed is sent as version 1 or 2, not 0"),
        (released(), 0, "stock.released is sent as version 1, not 0"),
    ],
)
def test_a_version_a_message_cannot_be_sent_as_is_refused_where_it_is_wrapped(message, version, reason):
    with pytest.raises(ValueError, match=reason):
        Envelope.wrap(message, producer="test", correlation_id=uuid.uuid4(), version=version)


@pytest.mark.django_db(databases=["orders"])
def test_a_producer_pinned_to_the_previous_version_records_it(settings):
    settings.BUS = {**settings.BUS, "SEND_VERSIONS": {"order.shipped": 1}}
    pinned, unpinned = samples(an_address())["order.shipped"], samples(an_address())["order.confirmed"]

    with transaction.atomic(using="orders"):
        OutboxMessage.record(pinned)
        OutboxMessage.record(unpinned)

    bodies = {row.type: json.loads(row.body) for row in OutboxMessage.objects.all()}
    assert bodies["order.shipped"]["version"] == 1 and "shipping_address" not in bodies["order.shipped"]["payload"]
    assert bodies["order.confirmed"]["version"] == 2


# --- the pins: BUS_SEND_VERSIONS ------------------------------------------


def test_pins_are_read_as_a_version_per_type():
    assert send_versions("") == {}
    assert send_versions(" cart.checked_out=1 , order.confirmed=2,") == {"cart.checked_out": 1, "order.confirmed": 2}


@pytest.mark.parametrize(
    "text, reason",
    [
        ("cart.checkedout=1", "'cart.checkedout' is not a message type"),
        ("cart.checked_out=3", "cart.checked_out can be sent as version 1 or 2, not '3'"),  # newer than it is
        ("cart.checked_out=0", "cart.checked_out can be sent as version 1 or 2, not '0'"),  # older than N−1
        ("payment.succeeded=0", "payment.succeeded can be sent as version 1, not '0'"),
        ("cart.checked_out", "cart.checked_out can be sent as version 1 or 2, not ''"),
        ("cart.checked_out=v1", "not 'v1'"),
        ("order.shipped=1,order.shipped=2", "order.shipped is pinned twice"),
    ],
)
def test_a_pin_that_cannot_be_honoured_is_a_configuration_error(text, reason):
    with pytest.raises(ImproperlyConfigured, match=f"BUS_SEND_VERSIONS: .*{reason}"):
        send_versions(text)


def test_a_process_with_such_a_pin_stops_as_it_starts_saying_why(tmp_path):
    result = manage(tmp_path, "check", BUS_SEND_VERSIONS="order.confirmed=3")

    assert result.returncode != 0
    assert ("ImproperlyConfigured: BUS_SEND_VERSIONS: order.confirmed can be sent as version 1 or 2, not '3'"
            in result.stderr)
    assert manage(tmp_path, "check", BUS_SEND_VERSIONS="order.confirmed=1").returncode == 0


# --- a newer version than the consumer reads ------------------------------


@pytest.mark.broker
@pytest.mark.django_db(databases=[SERVICE], transaction=True)
def test_a_newer_version_is_parked_with_the_reason_and_handled_once_the_consumer_is_upgraded(bus_names,
                                                                                               monkeypatch):
    handled = []
    consumer = declared(lambda message: handled.append(message.order_id))
    newer = Envelope(type="stock.released", version=2, producer="catalog", correlation_id=uuid.uuid4(),
                     payload={"order_id": str(uuid.uuid4()), "lines": [], "warehouse": "north"})
    raw_publish(bus_names, newer.to_json().encode())

    consume(consumer, until=lambda: len(dead_letters()) == 1)
    [letter] = dead_letters()
    assert "stock.released version 2 is not supported (expected 1); newer than this consumer reads" in letter.error
    assert handled == []

    # The upgrade: this release reads version 2 (here the same fields and one it ignores) and version 1.
    monkeypatch.setattr(contracts.StockReleased, "VERSION", 2)
    monkeypatch.setattr(contracts.StockReleased, "UPCASTERS", {1: dict})
    assert replay_dead_letters(SERVICE) == 1
    consume(consumer, until=lambda: handled)
    assert handled == [uuid.UUID(newer.payload["order_id"])]
    assert dead_letters() == []
