import logging

from django.conf import settings
from django.core.management.base import BaseCommand

from shopsite import jsonlogs, tracing
from shopsite.bus.commands import Relay, serve_relay_metrics, stop_on_signals

log = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Publish outbox rows that were not published right after their commit, until SIGTERM."

    def add_arguments(self, parser):
        parser.add_argument("--interval", type=float, default=settings.BUS["RELAY_INTERVAL"])

    def handle(self, *args, interval, **options):
        jsonlogs.identify(service="relay", process="relay")
        tracing.setup("relay")
        serve_relay_metrics()
        relay = Relay(interval=interval)
        stop_on_signals(relay.stop)
        relay.run()
        log.info("relay stopped after publishing %d messages", relay.published)  # a log line: see consume_<service>
