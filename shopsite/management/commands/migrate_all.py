from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Apply the migrations of every service's database."

    def handle(self, *args, **options):
        for database in settings.DATABASES:
            call_command("migrate", database=database, interactive=False, verbosity=options["verbosity"] - 1)
            self.stdout.write(f"migrated {database}")
