"""BUS_URL lists one or more nodes: the order a process tries them in, backoff, and a dead node listed first."""

import io
import random
import socket

import pytest
from django.core.management import call_command

from catalog.models import OutboxMessage
from shopsite.bus import connection
from shopsite.bus.connection import (Backoff, NodeOrder, addresses, connect, connected_node, declare_service,
                                     split_urls, urls)
from shopsite.bus.publisher import Publisher, sweep
from tests.bus.test_rabbitmq import record, released

A, B, C = (f"amqp://shop:secret@10.0.0.{i}:5672/%2F?heartbeat=30" for i in (1, 2, 3))


def test_bus_url_is_one_url_or_several_separated_by_commas(settings):
    assert split_urls(A) == [A]
    assert split_urls(f"{A}, {B},{C}\n") == [A, B, C]
    settings.BUS = {**settings.BUS, "URL": f"{A},{B}"}
    assert urls() == [A, B]
    assert addresses() == "10.0.0.1:5672, 10.0.0.2:5672"  # what messages show: never the password


def test_each_process_starts_at_a_node_of_its_own_so_copies_spread():
    starts = {NodeOrder([A, B, C])()[0] for _ in range(200)}
    assert starts == {A, B, C}
    assert all(sorted(NodeOrder([A, B, C])()) == [A, B, C] for _ in range(20))  # a rotation, nothing lost


def test_the_node_that_answered_is_tried_first_and_the_ones_that_did_not_last():
    order = NodeOrder([A, B, C], start=0)
    order.answered(order(), B)  # A was tried and failed
    assert order() == [B, C, A]
    order.answered(order(), B)
    assert order() == [B, C, A]  # a healthy reconnect stays where it is
    order.answered(order(), A)  # B and C failed, A is back
    assert order() == [A, B, C]


def test_backoff_doubles_up_to_its_cap_with_jitter():
    backoff = Backoff(first=0.5, cap=5.0)
    for failure in range(12):
        ceiling = min(5.0, 0.5 * 2**failure)
        assert ceiling / 2 <= backoff.next() <= ceiling
    backoff.reset()
    assert backoff.next() <= 0.5
    assert len({Backoff().next() for _ in range(50)}) > 1  # copies that failed together do not come back together


@pytest.fixture
def dead_node_first(settings, monkeypatch):
    """BUS_URL lists a port nobody listens on, then the test broker; this process starts at the dead one."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead_port = sock.getsockname()[1]  # closed again: connections are refused
    live = settings.BUS["URL"]
    dead = live.replace(":5672/", f":{dead_port}/")
    assert dead != live
    settings.BUS = {**settings.BUS, "URL": f"{dead},{live}"}
    monkeypatch.setattr(random, "randrange", lambda n: 0)  # where this process starts (else a random node)
    connection._node_order.cache_clear()
    yield dead, live
    connection._node_order.cache_clear()


@pytest.mark.django_db(databases="__all__")
def test_readyz_is_ready_when_the_first_listed_node_is_dead(client, broker, dead_node_first):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"]["broker"] is True


@pytest.mark.broker
@pytest.mark.django_db(databases=["catalog"], transaction=True)
def test_the_relay_publishes_past_a_dead_first_node_and_then_keeps_to_the_live_one(bus_names, settings,
                                                                                 dead_node_first):
    dead, live = dead_node_first
    settings.BUS = {**settings.BUS, "PUBLISH_ON_COMMIT": False}
    with connect() as conn:
        assert connected_node(conn).endswith(":5672")
        declare_service(conn.channel(), "orders", bus_names)
    assert connection._node_order(settings.BUS["URL"])() == [live, dead]  # the dead one is not tried first again

    record(released())
    assert sweep(Publisher(), only=[OutboxMessage]) == 1
    assert OutboxMessage.objects.filter(sent_at__isnull=True).count() == 0



@pytest.mark.broker
@pytest.mark.django_db(databases=["catalog"], transaction=True)
def test_rows_a_sweep_could_not_publish_are_swept_again_as_soon_as_a_node_answers(bus_names, settings,
                                                                                dead_node_first):
    dead, live = dead_node_first
    settings.BUS = {**settings.BUS, "PUBLISH_ON_COMMIT": False}
    record(released())
    settings.BUS = {**settings.BUS, "URL": dead}  # every node gone
    assert sweep(Publisher(), only=[OutboxMessage]) == 0
    # Not held for the claim's lease (30 s): nothing is publishing it.
    assert OutboxMessage.objects.filter(sent_at__isnull=True, claimed_until__isnull=True).count() == 1

    settings.BUS = {**settings.BUS, "URL": live}  # a node answers again
    with connect() as conn:
        declare_service(conn.channel(), "orders", bus_names)
    assert sweep(Publisher(), only=[OutboxMessage]) == 1
    assert OutboxMessage.objects.filter(sent_at__isnull=True).count() == 0


@pytest.mark.broker
@pytest.mark.django_db(databases="__all__")
def test_the_declare_and_dead_letter_commands_work_past_a_dead_first_node(bus_names, dead_node_first):
    out = io.StringIO()
    call_command("declare_topology", stdout=out)
    assert f"Declared {bus_names.exchange}" in out.getvalue()
    call_command("dead_letters", "list", stdout=out)
    call_command("dead_letters", "replay", "--service", "orders", stdout=out)
    assert "orders: replayed 0" in out.getvalue()
