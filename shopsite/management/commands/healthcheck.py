import os
from urllib.error import URLError
from urllib.request import urlopen

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from shopsite.health import consumer_consuming, container_process, dependency_checks


class Command(BaseCommand):
    help = (
        "Exit 0 if a process of this container can do its work, 1 if not: the web answers /healthz, "
        "a consumer holds its ready file, the relay reaches every database and the broker."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "process", nargs="?",
            help="a Procfile name (web, relay, or a service); by default the one this container runs (its PID 1)",
        )

    def handle(self, *args, process, **options):
        process = process or container_process()
        if process == "web":
            problem = self._web_problem()
        elif process == "relay":
            failing = [name for name, ok in dependency_checks().items() if not ok]
            problem = f"the relay cannot reach {', '.join(failing)}" if failing else None
        elif process in settings.SERVICES:
            problem = None if consumer_consuming(process) else f"no {process} consumer is consuming"
        else:
            raise CommandError(f"Name the process to check (web, relay, {', '.join(settings.SERVICES)}), not {process!r}")
        if problem:
            raise CommandError(problem)
        self.stdout.write(f"{process}: healthy")

    @staticmethod
    def _web_problem() -> str | None:
        # Liveness only: /readyz would call a web process dead whenever the broker is.
        url = f"http://127.0.0.1:{os.environ.get('PORT', '8000')}/healthz"
        try:
            with urlopen(url, timeout=5) as response:  # noqa: S310 - our own loopback address
                return None if response.status == 200 else f"{url} answered {response.status}"
        except (URLError, OSError) as exc:
            return f"{url} did not answer: {exc}"
