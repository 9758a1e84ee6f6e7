"""Keeps a consumer's connection answering the broker while a handler runs long.

Handlers run on the consuming thread itself: handing each batch to another
thread and back cost more CPU than a small handler (two thread wake-ups per
batch, measured at 0.6-0.8 ms a message on a quiet 2-core machine). But pika
only answers heartbeats while its connection is being served, and the broker
drops a connection that stays silent past two heartbeat intervals.

So the consuming thread gives the connection up (releases ``lock``) while its
handlers run, and this thread serves it if they run longer than a quarter of
the heartbeat interval. The connection is only ever used by one thread at a
time; the handlers never touch it (they publish on their own connection).
"""

from __future__ import annotations

import logging
import threading
import time

log = logging.getLogger(__name__)


class Keepalive(threading.Thread):
    def __init__(self, heartbeat: float | None) -> None:
        super().__init__(name="bus-keepalive", daemon=True)
        self.lock = threading.Lock()
        self.connection = None
        self.period = max(0.2, (heartbeat or 60) / 4)
        self._since: float | None = None
        self._halt = threading.Event()
        self.served = 0

    def handling(self) -> _Handling:
        """``with keepalive.handling():`` around handler work on the consuming thread (which holds ``lock``)."""
        return _Handling(self)

    def stop(self) -> None:
        self._halt.set()

    def run(self) -> None:
        while not self._halt.wait(self.period):
            since = self._since
            if since is None or time.monotonic() - since < self.period:
                continue
            if not self.lock.acquire(blocking=False):
                continue
            try:
                connection = self.connection
                if self._since is not None and connection is not None and connection.is_open:
                    connection.process_data_events(time_limit=0)  # sends and reads heartbeats
                    self.served += 1
            except Exception as exc:  # the consuming thread meets the broken connection on its next use
                log.warning("keeping the connection alive failed: %r", exc)
            finally:
                self.lock.release()


class _Handling:
    def __init__(self, keepalive: Keepalive) -> None:
        self.keepalive = keepalive

    def __enter__(self) -> None:
        self.keepalive._since = time.monotonic()
        self.keepalive.lock.release()

    def __exit__(self, *exc) -> None:
        self.keepalive.lock.acquire()
        self.keepalive._since = None
