"""The bus on a three-node cluster (tests/cluster.py) with quorum queues: failing over when a node stops."""

import time
import uuid

import pytest

from catalog.models import OutboxMessage
from shopsite.bus.connection import connected_node
from shopsite.bus.names import Names
from shopsite.bus.publisher import Publisher, sweep
from tests.bus.test_rabbitmq import declared, record, released

pytestmark = [pytest.mark.cluster, pytest.mark.broker, pytest.mark.django_db(databases=["catalog"], transaction=True)]


def test_a_consumer_and_the_relay_move_to_another_node_when_theirs_stops(cluster_bus, settings):
    settings.BUS = {**settings.BUS, "PUBLISH_ON_COMMIT": False}  # the second message goes through the relay
    calls = []
    consumer = declared(lambda message: calls.append(message.order_id))
    relay = Publisher()
    first = record(released())[0]
    assert sweep(relay, only=[OutboxMessage]) == 1
    sent: list = [first]
    stopped: list = []
    ready_files: list = []  # what the consumer's ready file said, each time it changed

    def step() -> bool:
        ready = consumer.ready_file.read_text().split()[1] if consumer.ready_file.exists() else None
        if (ready_files and ready_files[-1] != ready) or (not ready_files and ready):
            ready_files.append(ready)
        if not stopped and calls and ready:
            # The relay and the consumer are on one node (the one this process answered on first): stop it.
            assert connected_node(relay._connection) == ready
            stopped.append(cluster_bus.node_at(ready))
            stopped[0].stop_app()
            sent.append(record(released())[0])
        if stopped:
            sweep(relay, only=[OutboxMessage])
        return len(calls) == 2

    deadline = time.monotonic() + 90
    consumer.run(until=lambda: step() or time.monotonic() > deadline)

    assert calls == [uuid.UUID(envelope.payload["order_id"]) for envelope in sent]
    assert OutboxMessage.objects.filter(sent_at__isnull=True).count() == 0
    [node] = stopped
    # Ready on the node that stopped, not ready while it reconnected, ready again on another one.
    assert ready_files[0] == f"127.0.0.1:{node.port}" and ready_files[1] is None
    assert ready_files[-1] is not None and ready_files[-1] != ready_files[0]
    assert connected_node(relay._connection) != ready_files[0]
    assert consumer.connections_lost >= 1
    relay.close()


def test_the_queue_keeps_its_messages_when_its_leader_is_killed(cluster_bus):
    calls = []
    consumer = declared(lambda message: calls.append(message.order_id))
    queue = Names.configured().queue("catalog")
    relay = Publisher()
    before = record(released())[0]  # published at once, confirmed by a majority of the queue's nodes
    leader = cluster_bus.leader(queue)

    leader.kill()
    after = record(released())[0]  # the publisher's node may be the dead one: it moves, or the relay will
    deadline = time.monotonic() + 90
    consumer.run(until=lambda: len(calls) == 2 or sweep(relay, only=[OutboxMessage]) < 0
                 or time.monotonic() > deadline)
    relay.close()

    assert sorted(calls) == sorted(uuid.UUID(e.payload["order_id"]) for e in (before, after))
    assert cluster_bus.leader(queue) is not leader
