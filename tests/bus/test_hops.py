"""A failed message's hops (to a retry queue, back through its TTL, into the dead letters) lose nothing.

Against the real RabbitMQ, on classic and quorum queues; the broker's own
view is read with ``rabbitmqctl`` (no management plugin needed).
"""

import json
import logging
import subprocess
import time

import pika
import pytest

from catalog.models import InboxMessage
from shopsite.bus.connection import connect, declare_service
from shopsite.bus.consumer import Consumer
from shopsite.bus.handlers import Handler
from tests.bus.test_rabbitmq import SERVICE, consume, dead_letters, declared, record, released

pytestmark = [pytest.mark.broker, pytest.mark.django_db(databases=["catalog"], transaction=True)]


def wait_for(condition, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def delete_queue(queue: str) -> None:
    connection = connect()
    connection.channel().queue_delete(queue)
    connection.close()


def ready_in(queue: str) -> int:
    connection = connect()
    try:
        return connection.channel().queue_declare(queue, passive=True).method.message_count
    finally:
        connection.close()


def declared_arguments(names) -> dict[str, dict]:
    """Each of this test's queues and the arguments it was declared with, as the broker reports them."""
    out = subprocess.run(["rabbitmqctl", "list_queues", "-q", "-p", "/", "name", "arguments", "--formatter", "json"],
                         check=True, capture_output=True, text=True, timeout=60).stdout
    return {q["name"]: {key: value for key, _, value in q["arguments"]} for q in json.loads(out) if q["name"].startswith(names.prefix + ".")}


def dead_lettered_and_kept(queue: str) -> int:
    """Messages a quorum queue has dead-lettered but keeps until their destination confirms them."""
    expression = (f'{{ok, Q}} = rabbit_amqqueue:lookup(rabbit_misc:r(<<"/">>, queue, <<"{queue}">>)), '
                  f'proplists:get_value(messages_dlx, rabbit_amqqueue:info(Q, [messages_dlx])).')
    out = subprocess.run(["rabbitmqctl", "eval", expression], check=True, capture_output=True, text=True, timeout=60)
    return int(out.stdout.strip())


@pytest.mark.parametrize("queue_type", ["classic", "quorum"])
@pytest.mark.parametrize("hop", ["retry", "park"])
def test_a_failed_message_whose_next_queue_is_gone_is_not_acked_but_stays_then_goes_on(
        bus_names, settings, caplog, queue_type, hop):
    # Without retries the first failure parks the message.
    settings.BUS = {**settings.BUS, "QUEUE_TYPE": queue_type, **({"RETRY_DELAYS": []} if hop == "park" else {})}
    delays = settings.BUS["RETRY_DELAYS"]
    target = bus_names.retry_queue(SERVICE, delays[0]) if hop == "retry" else bus_names.dead_letter_queue(SERVICE)
    calls = []

    def fails(message):
        calls.append(message.order_id)
        if len(calls) == 1:  # gone after the consumer declared it, before the failure's hop
            delete_queue(target)
        raise ValueError("out of paper")

    consumer = declared(fails)
    [envelope] = record(released())
    caplog.set_level(logging.ERROR, logger="shopsite.bus.consumer")

    def refused():
        return any("could not be moved" in r.getMessage() and str(envelope.id) in r.getMessage() for r in caplog.records)

    consume(consumer, until=refused)
    assert refused(), "the failed hop was not logged as an error"
    wait_for(lambda: ready_in(bus_names.queue(SERVICE)) == 1)  # handed back, not acked

    consume(consumer, until=lambda: len(dead_letters()) == 1)
    [letter] = dead_letters()
    assert letter.message_id == str(envelope.id)
    assert letter.attempts == len(delays) + 1
    assert "ValueError: out of paper" in letter.error
    assert len(calls) == len(delays) + 2  # one more: the attempt whose hop failed
    assert ready_in(bus_names.queue(SERVICE)) == 0


def test_in_quorum_mode_every_queue_is_quorum_and_every_dead_lettering_hop_at_least_once(bus_names, settings):
    settings.BUS = {**settings.BUS, "QUEUE_TYPE": "quorum", "DELIVERY_LIMIT": 2}
    consumer = Consumer(SERVICE, handlers={type(released()): Handler("catalog.test-nothing", lambda message: None)})
    connection = connect()
    declare_service(connection.channel(), SERVICE, bus_names, consumer.handlers)
    connection.close()

    arguments = declared_arguments(bus_names)

    main, dead = bus_names.queue(SERVICE), bus_names.dead_letter_queue(SERVICE)
    retries = [bus_names.retry_queue(SERVICE, delay) for delay in settings.BUS["RETRY_DELAYS"]]
    assert sorted(arguments) == sorted([main, dead, *retries])
    assert all(args["x-queue-type"] == "quorum" for args in arguments.values())
    for queue, destination in [(main, dead)] + [(retry, main) for retry in retries]:
        assert arguments[queue]["x-dead-letter-routing-key"] == destination
        assert arguments[queue]["x-dead-letter-strategy"] == "at-least-once"
        assert arguments[queue]["x-overflow"] == "reject-publish"
    assert arguments[main]["x-delivery-limit"] == 2
    assert "x-delivery-limit" not in arguments[dead]  # nothing may drop a parked message
    assert "x-dead-letter-exchange" not in arguments[dead]


def test_a_retry_hop_whose_destination_is_gone_keeps_the_message(bus_names, settings):
    # At-most-once dead-lettering would drop it as its delay runs out; the
    # broker keeps it and tries again until the queue is back.
    settings.BUS = {**settings.BUS, "QUEUE_TYPE": "quorum"}
    consumer = Consumer(SERVICE, handlers={type(released()): Handler("catalog.test-nothing", lambda message: None)})
    connection = connect()
    channel = connection.channel()
    declare_service(channel, SERVICE, bus_names, consumer.handlers)
    channel.queue_delete(bus_names.queue(SERVICE))
    retry = bus_names.retry_queue(SERVICE, settings.BUS["RETRY_DELAYS"][0])
    channel.confirm_delivery()
    channel.basic_publish("", retry, b"{}", pika.BasicProperties(message_id="kept"), mandatory=True)
    connection.close()

    wait_for(lambda: dead_lettered_and_kept(retry) == 1)
    assert ready_in(retry) == 0  # its delay did run out


def test_in_quorum_mode_a_message_retried_through_every_delay_and_parked_arrives_intact(bus_names, settings):
    settings.BUS = {**settings.BUS, "QUEUE_TYPE": "quorum", "DELIVERY_LIMIT": 2}
    attempts = []

    def always_fails(message):
        attempts.append(message.order_id)
        raise ValueError("the warehouse is on fire")

    consumer = declared(always_fails)
    [envelope] = record(released())

    consume(consumer, until=lambda: len(dead_letters()) == 1, timeout=30)

    [letter] = dead_letters()
    assert letter.message_id == str(envelope.id)
    assert json.loads(letter.body) == json.loads(envelope.to_json())
    assert letter.attempts == len(settings.BUS["RETRY_DELAYS"]) + 1
    assert attempts == [envelope.message().order_id] * letter.attempts
    assert InboxMessage.objects.count() == 0
