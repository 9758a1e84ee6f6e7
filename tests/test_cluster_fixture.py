"""tests/cluster.py: nodes of its own, on ports of their own, and nothing left behind; the broker on 5672 untouched."""

import json
import subprocess

import pika
import pytest

from tests.cluster import Cluster, _alive

pytestmark = pytest.mark.cluster


def system_broker() -> tuple:
    """The broker on 5672 as the machine's rabbitmqctl sees it: its OS process and its cluster."""
    def ctl(*args):
        out = subprocess.run(["rabbitmqctl", "-q", *args, "--formatter", "json"], check=True, capture_output=True,
                             text=True, timeout=60).stdout
        return json.loads(out)
    status, cluster = ctl("status"), ctl("cluster_status")
    return status["pid"], sorted(cluster["disk_nodes"]), sorted(cluster["running_nodes"])


def test_a_cluster_runs_beside_the_system_broker_and_leaves_nothing_behind():
    before = system_broker()
    cluster = Cluster.create(names=None)
    cluster.nodes = cluster.nodes[:1]  # one node is enough to see what start and destroy touch, and quick
    try:
        cluster.start()
        [node] = cluster.nodes
        assert node.port != 5672 and node.is_running()
        connection = pika.BlockingConnection(pika.URLParameters(node.url()))
        assert connection.is_open
        connection.close()
        assert system_broker() == before
        beam = node.beam_pid()
        assert beam is not None and _alive(beam)
    finally:
        cluster.destroy()

    assert not _alive(beam)
    assert not cluster.base.exists()
    assert system_broker() == before
