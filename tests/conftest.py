import uuid

import pytest
from django.conf import settings

from shopsite.bus import background
from shopsite.bus.connection import BROKER_ERRORS, addresses, connect
from shopsite.bus.names import Names
from tests.cluster import Cluster


def delete_topology(names: Names, retry_delays: list[float] | None = None, connection=None) -> None:
    """Delete the queues and exchange named by ``names`` (through ``connection``, by default the settings' broker)."""
    connection = connection or connect()
    channel = connection.channel()
    for service in settings.SERVICES + ["test"]:
        queues = [names.queue(service), names.dead_letter_queue(service)]
        queues += [names.retry_queue(service, d) for d in retry_delays or settings.BUS["RETRY_DELAYS"]]
        for queue in queues:
            channel.queue_delete(queue)
    channel.exchange_delete(names.exchange)
    connection.close()


@pytest.fixture
def broker():
    """The real RabbitMQ: a missing broker fails the test, it never skips it."""
    try:
        connect().close()
    except BROKER_ERRORS as exc:
        pytest.fail(f"RabbitMQ is not answering at {addresses()}: {exc!r}")


@pytest.fixture
def bus_names(broker, settings) -> Names:
    """A prefix of this test's own, removed from the broker afterwards."""
    settings.BUS = {**settings.BUS, "PREFIX": f"{settings.BUS['PREFIX']}-{uuid.uuid4().hex[:6]}"}
    names = Names.configured()
    yield names
    background.drain(10)  # what the test's commits handed over goes to the test's exchange, not the next one's
    delete_topology(names)


@pytest.fixture(scope="session", autouse=True)
def _run_topology_deleted():
    """The exchange and queues of this run's (or xdist worker's) own prefix go when its session ends.

    A test without ``bus_names`` whose commit the background publisher sends (any ``transaction=True`` test
    that writes an outbox row) declares the run's exchange; nothing else would remove it.
    """
    yield
    background.drain(10)
    try:
        delete_topology(Names.configured())
    except BROKER_ERRORS:  # no broker: a run of unit tests only, which declared nothing there
        pass


@pytest.fixture(autouse=True)
def _background_publisher_drained():
    """Nothing a test committed is published during the next test (publish-on-commit runs in a thread)."""
    yield
    assert background.drain(10), "the background publisher still held rows 10 s after the test"


#: Tests that share a session-wide resource run on one pytest-xdist worker (bin/test runs two, ``--dist
#: loadgroup``), so it is started once: by the fixture they use, or by their folder.
#: The shops on PostgreSQL go with the cluster: a whole shop holds about 80 connections (persistent ones, per
#: thread and database), and two at once would pass the server's default limit of 100.
XDIST_GROUPS = {
    "rabbit_cluster": "cluster", "postgres_databases": "cluster", "postgres_database": "cluster",
    "lone_broker": "lone-broker",
}
FOLDER_GROUPS = {"e2e": "e2e-shop"}


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist's own, which reads the marks
def pytest_collection_modifyitems(items):
    groups = {}
    for item in items:
        group = next((g for fixture, g in XDIST_GROUPS.items() if fixture in item.fixturenames), None)
        # Also where the session's cluster is asked for by a parameter (``topology``). Not for every test marked
        # ``cluster``: tests/test_cluster_fixture.py starts a node of its own, and can run beside the cluster's.
        if item.get_closest_marker("cluster_faults"):
            group = "cluster"
        group = group or FOLDER_GROUPS.get(item.path.parent.name)
        if group:
            item.add_marker(pytest.mark.xdist_group(group))  # pytest-xdist appends "@group" to the test's id
            groups[item] = group
    # The cluster's tests are the longest group (about five minutes): first, so they do not start last.
    items.sort(key=lambda item: groups.get(item) != "cluster")


def pytest_collection_finish(session):
    """On a pytest-xdist worker of ``--dist loadgroup``: fail at once if a grouped test's id lacks its group, as
    pytest 9.2 made happen silently with pytest-xdist 3.8 (pytest-dev/pytest-xdist#1386, hence the pin in
    pyproject.toml): a group spread over the workers starts its session-wide cluster, broker or shop on each."""
    if not hasattr(session.config, "workerinput") or not session.config.getoption("loadgroup", False):
        return
    lost = [item.nodeid for item in session.items if item.get_closest_marker("xdist_group") and "@" not in item.nodeid]
    if lost:
        raise pytest.UsageError(f"--dist loadgroup: {len(lost)} grouped tests lost their group (e.g. {lost[0]}); "
                                "see the pytest pin in pyproject.toml")


@pytest.fixture(scope="session")
def lone_broker():
    """A one-node RabbitMQ of the session's own (tests/cluster.py), for the tests that stop their broker: the
    broker on 5672 is shared with the other tests of the run (and with other runs), so it is never stopped."""
    broker = Cluster.create(size=1)
    try:
        broker.start()
        yield broker
    finally:
        broker.destroy()


@pytest.fixture(scope="session")
def rabbit_cluster():
    """Three RabbitMQ nodes on loopback (tests/cluster.py) for the whole session; never the broker on 5672."""
    cluster = Cluster.create()
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.destroy()


@pytest.fixture
def cluster_bus(rabbit_cluster, settings) -> Cluster:
    """BUS_URL lists the three nodes, queues are quorum queues, names are this test's own.

    Afterwards every node a test stopped or killed is brought back, and the test's queues deleted.
    """
    settings.BUS = {**settings.BUS, "URL": rabbit_cluster.bus_url(), "QUEUE_TYPE": "quorum",
                    "PREFIX": f"{settings.BUS['PREFIX']}-{uuid.uuid4().hex[:6]}"}
    yield rabbit_cluster
    rabbit_cluster.heal()
    delete_topology(Names.configured())
