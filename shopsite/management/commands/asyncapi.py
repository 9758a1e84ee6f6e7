from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from shopsite.bus import asyncapi

CATALOGUE = Path("docs") / "asyncapi.yaml"


class Command(BaseCommand):
    help = (f"Write the AsyncAPI 3.0 catalogue of the bus ({CATALOGUE}) from the code; "
            "with --check, only say whether the file is up to date (exit status 1 when it is not).")

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="compare instead of writing")
        parser.add_argument("--output", type=Path, default=settings.BASE_DIR / CATALOGUE,
                            help=f"where the catalogue is (default: {CATALOGUE} in the checkout)")

    def handle(self, *args, check: bool, output: Path, **options):
        text = asyncapi.render()
        if check:
            if not output.exists() or output.read_text(encoding="utf-8") != text:
                raise CommandError(f"{output} is not what the code says: regenerate it with "
                                   "`python manage.py asyncapi` and commit it.")
            self.stdout.write(f"{output} is up to date.")
            return
        output.write_text(text, encoding="utf-8")
        self.stdout.write(f"Wrote {output}.")
