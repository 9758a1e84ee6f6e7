"""The production topology under node faults: three RabbitMQ nodes (tests/cluster.py), quorum queues,
every service on PostgreSQL, every process given the three nodes in BUS_URL.

Each scenario checks out while a node fails and comes back, then audits every
invariant (harness.FaultRun.check). The poison and dead-letter scenarios run
on the cluster too: they are test_scenarios.py's, parametrized by ``topology``.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Callable

import pytest

from shopsite.bus.names import Names
from tests.cluster import Cluster, Node
from tests.e2e.shop import CONSUMERS
from tests.loopback import wait_for

from .harness import FaultRun, broker_ports, scaled

pytestmark = [pytest.mark.e2e, pytest.mark.cluster, pytest.mark.cluster_faults]


def everyone_running(cluster: Cluster) -> None:
    cluster.wait_all_running(timeout=120, what="the three nodes to run in one cluster")


def relay_node(cluster: Cluster, run: FaultRun) -> Node | None:
    ports = broker_ports(run.shop.processes["relay"].pid)
    return next((node for node in cluster.nodes if node.port in ports), None)


def consumers_on(cluster: Cluster, run: FaultRun, node: Node) -> list[str]:
    return [name for name, address in run.ready_nodes().items() if cluster.node_at(address) is node]


def gather_consumers(cluster: Cluster, run: FaultRun, node: Node, at_least: int = 2, tries: int = 30) -> None:
    """Restart consumers until ``at_least`` of them consume from ``node``.

    Each process starts at a random node (so copies spread over the cluster):
    restarting one elsewhere is a fair draw again.
    """
    for _ in range(tries):
        if len(consumers_on(cluster, run, node)) >= at_least:
            return
        elsewhere = [s for s in CONSUMERS if not any(n.startswith(f"{s}-") for n in consumers_on(cluster, run, node))]
        service = elsewhere[0]
        run.shop.stop(service)
        run.shop.start(service)
        pid = run.shop.processes[service].pid
        wait_for(lambda: f"{service}-{pid}" in run.ready_nodes(), timeout=60, interval=0.2,
                 what=f"the restarted {service} consumer to be ready")
    raise AssertionError(f"fewer than {at_least} consumers on {node.nodename} after {tries} restarts")


# --- the faults: each returns how many it injected, once the cluster has its three nodes back -------------


def kill_the_leader(cluster: Cluster, run: FaultRun) -> int:
    """SIGKILL the node that leads the orders queue (the declaring node leads every queue), then restart it."""
    queue = Names(run.shop.env["BUS_PREFIX"]).queue("orders")
    leader = cluster.leader(queue)
    leader.kill()
    # The remaining two elect a new leader; checkouts keep arriving meanwhile.
    # Each look is a few CLI calls (an Erlang VM each): twice a second is plenty, and leaves the CPU to the nodes.
    wait_for(lambda: cluster.leader(queue) is not leader, timeout=60, interval=0.5,
             what="a new leader for the orders queue")
    time.sleep(2)
    leader.start()
    everyone_running(cluster)
    return 1


def restart_every_node(cluster: Cluster, run: FaultRun) -> int:
    """A rolling restart, as for an upgrade: each node stopped and started in turn, the next once it is back."""
    for node in cluster.nodes:
        node.restart()
        everyone_running(cluster)
    assert "lost the broker" in run.shop.logs()  # every process was on one of them
    return len(cluster.nodes)


def stop_the_relays_node(cluster: Cluster, run: FaultRun) -> int:
    """``stop_app`` on the node the relay publishes to and (at least two) consumers consume from, then start it."""
    node = wait_for(lambda: relay_node(cluster, run), timeout=30, interval=0.2, what="the relay to connect")
    gather_consumers(cluster, run, node)
    moved = consumers_on(cluster, run, node)
    node.stop_app()

    nudged = [0.0]

    def relay_elsewhere() -> bool:
        """The relay holds a connection only while it has rows to publish: once the load is over (on a slow
        machine gathering the consumers can outlast it), a checkout from the reserve gives it one."""
        connected = relay_node(cluster, run)
        if connected is None and run.reserve and time.monotonic() - nudged[0] > 2:
            nudged[0] = time.monotonic()
            run.checkout_all([run.reserve.pop()], workers=1)
        return connected not in (None, node)

    def everyone_elsewhere() -> bool:
        ready = run.ready_nodes()
        consumers_ready = {name.rsplit("-", 1)[0] for name in ready} == set(CONSUMERS)
        return (consumers_ready and all(cluster.node_at(address) is not node for address in ready.values())
                and relay_elsewhere())

    # Every consumer ready again on another node, the relay publishing to another (the load keeps it busy).
    wait_for(everyone_elsewhere, timeout=60, interval=0.2, what=f"every process to leave {node.nodename}")
    assert all("lost the broker" in run.shop.log(name.rsplit("-", 1)[0]) for name in moved)
    run.notes["consumers moved"] = len(moved)
    node.start_app()
    everyone_running(cluster)
    return 1


@dataclass(frozen=True)
class NodeFault:
    name: str
    inject: Callable[[Cluster, FaultRun], int]
    load_seconds: float  # how long the checkouts are spread over: about the fault's length
    env: dict[str, str] = field(default_factory=dict)


NODE_FAULTS = [
    NodeFault("the queues' leader SIGKILLed, then restarted", kill_the_leader, load_seconds=15),
    NodeFault("rolling restart of the three nodes", restart_every_node, load_seconds=40),
    # Only the relay publishes, so it is the relay that has to move.
    NodeFault("the relay's and consumers' node stopped (stop_app), then started", stop_the_relays_node,
              load_seconds=15, env={"BUS_PUBLISH_ON_COMMIT": "false"}),
]


@pytest.mark.parametrize("fault", NODE_FAULTS, ids=lambda fault: fault.inject.__name__)
def test_no_checkout_is_lost_when_a_node_fails_under_load(fault_run, on_cluster, rabbit_cluster, fault):
    run: FaultRun = fault_run({**on_cluster, **fault.env})
    products = [run.product(stock=1000, price="9.99"), run.product(stock=1000, price="19.99")]
    customers = run.customers(scaled(300))
    run.fill_carts(customers, products)
    # A few customers are kept in reserve for a fault that needs a checkout at a moment of its choosing.
    warm_up, rest, run.reserve = customers[:3], customers[3:-5], customers[-5:]
    run.checkout_all(warm_up)  # every process has connected to its node

    fault_over = threading.Event()
    load = run.checkout_during(rest, fault_over, seconds=fault.load_seconds)
    time.sleep(1)  # checkouts are in flight
    accepted_before = len(run.accepted)
    started = time.monotonic()
    faults = fault.inject(rabbit_cluster, run)
    back = time.monotonic()
    run.notes["fault (s)"] = round(back - started, 1)
    accepted_during = len(run.accepted) - accepted_before
    fault_over.set()
    load.join()
    run.checkout_all(run.reserve)  # those the fault did not use

    audit = run.settle(timeout=180)
    recovery = time.monotonic() - back
    run.check(audit)
    assert not run.refused, run.refused[:3]
    assert len(run.accepted) == len(customers)
    assert accepted_during > 0  # the fault really was under load
    run.record(f"cluster: {fault.name}", audit, faults=faults, recovery=recovery,
               accepted_during_fault=accepted_during, **run.notes)
