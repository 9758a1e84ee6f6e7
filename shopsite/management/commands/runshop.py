import os
import shutil
import sys

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from shopsite.bus.connection import BROKER_ERRORS, connect

from .declare_topology import broker_missing_message


class Command(BaseCommand):
    help = "Migrate every database, declare the topology, load the demo, then run every process of the Procfile."

    def add_arguments(self, parser):
        parser.add_argument("--no-demo", action="store_true", help="do not load the demo catalog and users")
        parser.add_argument("--port", type=int, default=settings.SHOP_PORT,
                            help="the web server's port (default: SHOP_PORT, else 8000)")

    def handle(self, *args, no_demo, port, **options):
        try:
            connect().close()
        except BROKER_ERRORS as exc:
            raise CommandError(broker_missing_message(exc)) from exc
        call_command("migrate_all")
        call_command("declare_topology")
        if not no_demo:
            call_command("load_demo")
        honcho = shutil.which("honcho", path=os.path.dirname(sys.executable)) or shutil.which("honcho")
        if honcho is None:
            raise CommandError("honcho is not installed: pip install -e .")
        procfile = settings.BASE_DIR / "Procfile"
        self.stdout.write(f"Starting the web process on http://127.0.0.1:{port}, the relay and the six consumers "
                          "(Ctrl-C stops them all)")
        sys.stdout.flush()
        # Settings read .env themselves, under the real environment; honcho would
        # load it over the environment, so it is given none. honcho hands out
        # PORT, from --port for the Procfile's first process (web) on (else 5000).
        os.execv(honcho, [honcho, "--procfile", str(procfile), "--app-root", str(settings.BASE_DIR),
                          "--env", os.devnull, "start", "--port", str(port)])
