import json

from django.conf import settings
from django.core.management.base import BaseCommand

from shopsite.bus.deadletters import list_dead_letters, replay_dead_letters


class Command(BaseCommand):
    help = "List the messages parked in the dead-letter queues, or replay them."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["list", "replay"])
        parser.add_argument("--service", choices=settings.SERVICES, help="only this service (default: all)")
        parser.add_argument("--id", dest="message_id", help="replay only the message with this id")

    def handle(self, *args, action, service, message_id, **options):
        services = [service] if service else settings.SERVICES
        for name in services:
            if action == "replay":
                count = replay_dead_letters(name, message_id=message_id)
                self.stdout.write(f"{name}: replayed {count}")
                continue
            for letter in list_dead_letters(name):
                self.stdout.write(json.dumps({
                    "service": letter.service, "id": letter.message_id, "type": letter.type,
                    "attempts": letter.attempts, "failed_at": letter.failed_at, "error": letter.error,
                }))
