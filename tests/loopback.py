"""What the tests that start processes need of this machine, with the standard library only.

tests/cluster.py runs as ``python -m tests.cluster`` (bin/rabbitmq-cluster) with whatever Python is at hand,
so nothing here may need the test tools; tests/e2e/shop.py uses the same helpers.
"""

from __future__ import annotations

import random
import socket
import threading
import time
from pathlib import Path
from typing import Callable, TypeVar

T = TypeVar("T")


#: Ports handed out lie below the kernel's ephemeral range, and above the machine's own services (RabbitMQ's
#: 25672 among them). A port the kernel picks (bind to 0) is one it may also give any outgoing connection as
#: its local port: a node stopped and started again on it then meets "address in use" (seen in a rolling
#: restart of the test cluster, while the shop's clients were connecting to the other nodes).
LOWEST_PORT = 26000
_random = random.SystemRandom()  # not the test run's seeded generator: two workers must not draw alike


def _ephemeral_start() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768  # Linux's default


def free_port() -> int:
    """A port free on loopback now, outside the ephemeral range, so that nothing but a server takes it later."""
    highest = _ephemeral_start() - 1
    for _ in range(200):
        port = _random.randint(LOWEST_PORT, highest)
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port between {LOWEST_PORT} and {highest}")


def wait_for(condition: Callable[[], T], *, timeout: float = 20.0, interval: float = 0.05, what: str = "") -> T:
    """Poll ``condition`` until it returns something truthy; that value."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what or condition}")
        time.sleep(interval)


class StalledListener:
    """A TCP port on loopback that accepts connections and never says a word: a broker that hangs.

    ``with StalledListener() as stalled:`` gives ``stalled.port``; ``stalled.accepted`` counts the connections.
    """

    def __init__(self) -> None:
        self._server = socket.socket()
        self._server.bind(("127.0.0.1", 0))
        self._server.listen(64)
        self.port = self._server.getsockname()[1]
        self.accepted = 0
        self._held: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, name="stalled-listener", daemon=True)

    def url(self) -> str:
        """An AMQP URL to it, with the shop's default options (``BUS_URL``'s default)."""
        return f"amqp://guest:guest@127.0.0.1:{self.port}/%2F?heartbeat=30&connection_attempts=1&socket_timeout=5"

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self._server.accept()
            except OSError:  # closed
                return
            self._held.append(connection)
            self.accepted += 1

    def __enter__(self) -> StalledListener:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        try:
            self._server.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept(); close() alone may not
        except OSError:
            pass
        self._server.close()
        for connection in self._held:
            connection.close()
        self._thread.join(timeout=5)
