from django.conf import settings
from django.core.management.base import BaseCommand

from shopsite import tracing
from shopsite.bus.commands import Relay, stop_on_signals


class Command(BaseCommand):
    help = "Publish outbox rows that were not published right after their commit, until SIGTERM."

    def add_arguments(self, parser):
        parser.add_argument("--interval", type=float, default=settings.BUS["RELAY_INTERVAL"])

    def handle(self, *args, interval, **options):
        tracing.setup("relay")
        relay = Relay(interval=interval)
        stop_on_signals(relay.stop)
        relay.run()
        self.stdout.write(f"relay stopped after publishing {relay.published} messages")
