"""Handlers are known to the inbox by explicit keys: checked at load, listed for good, kept across a rename."""

import tomllib
from importlib import import_module
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db.migrations.loader import MigrationLoader

from catalog.models import InboxMessage, OutboxMessage
from shopsite import contracts
from shopsite.bus.connection import connect, declare_service, subscriptions
from shopsite.bus.consumer import Consumer
from shopsite.bus.handlers import MAX_KEY_LENGTH, Handler, handler_table
from shopsite.bus.publisher import Publisher
from tests.bus.test_rabbitmq import SERVICE, consume, record, released

REGISTRY = Path(settings.BASE_DIR) / "shopsite" / "bus" / "handler_keys.toml"


def registry() -> dict:
    return tomllib.loads(REGISTRY.read_text())


def keys_in_handlers() -> set[str]:
    return {handler.key for service in settings.SERVICES for handlers in subscriptions(service).values()
            for handler in handlers}


def nothing(message) -> None:
    pass


def something(message) -> None:
    pass


# --- the list of every key there has been ------------------------------------


def test_no_key_that_existed_has_disappeared_from_the_handlers():
    gone = set(registry()["in-use"]) - keys_in_handlers()
    assert not gone, (
        f"{sorted(gone)} are in no service's HANDLERS: the inbox rows under these keys no longer stop a "
        f"redelivered message from being applied again. Give the handler its key back, or, if the handler is "
        f"really gone, move the key to [retired] in {REGISTRY.name} with the date and the reason."
    )


def test_every_key_in_the_handlers_is_listed():
    unlisted = keys_in_handlers() - set(registry()["in-use"])
    assert not unlisted, f"add {sorted(unlisted)} to in-use in {REGISTRY.name}"


def test_a_retired_key_has_a_reason_and_is_never_taken_again():
    retired, in_use = registry()["retired"], set(registry()["in-use"])
    assert all(isinstance(reason, str) and reason.strip() for reason in retired.values())
    assert not set(retired) & (in_use | keys_in_handlers())


def test_every_key_the_inbox_migrations_wrote_is_listed():
    listed = set(registry()["in-use"]) | set(registry()["retired"])
    migrations = [key for key in MigrationLoader(None, ignore_no_migrations=True).disk_migrations
                  if key[1].endswith("_inbox_handler_keys")]
    assert sorted(app for app, _ in migrations) == sorted(settings.SERVICES)
    for app, name in migrations:
        written = set(import_module(f"{app}.migrations.{name}").INBOX_KEYS.values())
        assert written <= listed, f"{app}.{name}"


# --- keys are checked when a service's handlers are loaded -----------------------


@pytest.mark.parametrize("key", [
    "orders.handlers.place_order",  # an import path is what keys replace
    "orders.place_order",
    "Orders.place-order",
    "place-order",
    "orders.",
    "orders.place--order",
    "orders." + "a" * (MAX_KEY_LENGTH - len("orders.") + 1),
])
def test_a_key_must_read_service_dot_kebab_case_and_fit_the_inbox(key):
    with pytest.raises(ImproperlyConfigured):
        Handler(key, nothing)


def test_the_longest_key_the_inbox_holds_is_accepted():
    assert len(Handler("orders." + "a" * (MAX_KEY_LENGTH - len("orders.")), nothing).key) == MAX_KEY_LENGTH


def test_one_function_may_keep_one_key_for_several_message_types():
    table = handler_table("notifications", {
        contracts.UserRegistered: Handler("notifications.user-changed", nothing),
        contracts.UserUpdated: Handler("notifications.user-changed", nothing),
    })
    assert table[contracts.UserUpdated] == (Handler("notifications.user-changed", nothing),)


@pytest.mark.parametrize("mapping, complaint", [
    ({contracts.OrderPlaced: Handler("catalog.stock-reserve", nothing)}, "must start with 'orders.'"),
    ({contracts.OrderPlaced: Handler("orders.note", nothing),
      contracts.OrderCancelled: Handler("orders.note", something)}, "to two functions"),
    ({contracts.OrderPlaced: (Handler("orders.note", nothing), Handler("orders.note", nothing))}, "twice"),
    ({contracts.OrderPlaced: nothing}, "not a Handler"),
])
def test_keys_that_would_confuse_the_inbox_are_refused(mapping, complaint):
    with pytest.raises(ImproperlyConfigured, match=complaint):
        handler_table("orders", mapping)


def test_every_service_loads_its_handlers_with_valid_keys():
    for service in settings.SERVICES:
        assert all(h.service == service for handlers in subscriptions(service).values() for h in handlers)


def test_a_fault_aimed_at_an_import_path_stops_the_consumer(settings):
    settings.BUS = {**settings.BUS, "FAULTS": "raise:orders.handlers.confirm_order"}
    with pytest.raises(ImproperlyConfigured, match="BUS_FAULTS"):
        Consumer(SERVICE, handlers={contracts.StockReleased: Handler("catalog.test-nothing", nothing)})


# --- a rename between two deliveries of one message -------------------------------


def declared(handler: Handler) -> Consumer:
    """A consumer of stock.released with ``handler``, its queue declared."""
    consumer = Consumer(SERVICE, handlers={contracts.StockReleased: handler})
    connection = connect()
    declare_service(connection.channel(), SERVICE, consumer.names, consumer.handlers)
    connection.close()
    return consumer


#: The names of the functions below, as each applies a message.
applications: list[str] = []


def note_stock_released(message) -> None:
    applications.append("note_stock_released")


def record_released_stock(message) -> None:  # note_stock_released, renamed and moved to another module
    applications.append("record_released_stock")


record_released_stock.__module__ = "catalog.saga.handlers"


def delivered_twice(first: Handler, then: Handler) -> list[str]:
    """One message applied by a consumer with ``first``, delivered again to the next deploy's, with ``then``."""
    applications.clear()
    before = declared(first)
    envelope = record(released())[0]
    consume(before, until=lambda: before.handled == 1)

    after = Consumer(SERVICE, handlers={contracts.StockReleased: then})
    Publisher().publish_rows(OutboxMessage, OutboxMessage.objects.filter(id=envelope.id))  # the same message again
    consume(after, until=lambda: after.handled == 1)
    assert (before.handled, after.handled) == (1, 1)
    return list(applications)


@pytest.mark.broker
@pytest.mark.django_db(databases=["catalog"], transaction=True)
def test_a_handler_renamed_and_moved_skips_a_message_it_applied_under_its_old_name(bus_names):
    applied = delivered_twice(Handler("catalog.note-stock-released", note_stock_released),
                              then=Handler("catalog.note-stock-released", record_released_stock))

    assert applied == ["note_stock_released"]  # not record_released_stock
    assert list(InboxMessage.objects.values_list("handler", flat=True)) == ["catalog.note-stock-released"]


@pytest.mark.broker
@pytest.mark.django_db(databases=["catalog"], transaction=True)
def test_a_handler_given_another_key_applies_the_same_message_again(bus_names):
    """Why a key must never change: the inbox knows the handler by nothing else."""
    applied = delivered_twice(Handler("catalog.note-stock-released", note_stock_released),
                              then=Handler("catalog.record-released-stock", record_released_stock))

    assert applied == ["note_stock_released", "record_released_stock"]
    assert sorted(InboxMessage.objects.values_list("handler", flat=True)) == [
        "catalog.note-stock-released", "catalog.record-released-stock"]
