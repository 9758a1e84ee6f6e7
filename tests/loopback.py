"""What the tests that start processes need of this machine, with the standard library only.

tests/cluster.py runs as ``python -m tests.cluster`` (bin/rabbitmq-cluster) with whatever Python is at hand,
so nothing here may need the test tools; tests/e2e/shop.py uses the same helpers.
"""

from __future__ import annotations

import socket
import threading
import time
from typing import Callable, TypeVar

T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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
