"""The thin entry points: each ``consume_<service>`` command is one of these."""

from __future__ import annotations

import logging
import signal
import time

from django.core.management.base import BaseCommand

from shopsite import heap, jsonlogs, metrics, tracing

from .connection import BROKER_ERRORS, connect, declare_all
from .consumer import Consumer
from .publisher import Publisher, outboxes, sweep

log = logging.getLogger(__name__)


def stop_on_signals(stop) -> None:
    """SIGTERM and SIGINT finish the current message, then exit cleanly."""
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop())


class ConsumeCommand(BaseCommand):
    service: str

    @property
    def help(self) -> str:
        return f"Run the {self.service} service's consumer until SIGTERM/SIGINT."

    def handle(self, *args, **options) -> None:
        jsonlogs.identify(service=self.service, process=f"consume_{self.service}")
        tracing.setup(self.service)
        metrics.serve(self.service)
        consumer = Consumer(self.service)
        stop_on_signals(consumer.stop)
        heap.settle()
        consumer.run()
        # A log line, not output: in JSON every line the process writes is one.
        log.info("%s consumer stopped after %d messages", self.service, consumer.handled)


def serve_relay_metrics() -> None:
    """The relay's metrics, with every service's outbox read at each scrape (``metrics.OutboxCollector``)."""
    metrics.serve("relay", collectors=(metrics.OutboxCollector(outboxes()),))


class Relay:
    """Sweeps every service's outbox for rows nobody has published yet."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self.publisher = Publisher()
        self._stopping = False
        self.published = 0

    def stop(self) -> None:
        self._stopping = True

    def run(self) -> None:
        declared = False
        while not self._stopping:
            if not declared:
                declared = self._declare()
            self.published += sweep(self.publisher)
            deadline = time.monotonic() + self.interval
            while time.monotonic() < deadline and not self._stopping:
                time.sleep(0.05)
        self.publisher.close()

    @staticmethod
    def _declare() -> bool:
        try:
            connection = connect()
            declare_all(connection.channel())
            connection.close()
        except BROKER_ERRORS as exc:
            log.warning("relay could not declare the topology yet: %r", exc)
            return False
        return True
