from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from shopsite.bus.retention import prune


class Command(BaseCommand):
    help = ("Delete the bus's rows older than the retention period: sent outbox rows and inbox rows "
            "(docs/production.md, \"A long history\"). Run it daily, e.g. from cron.")

    def add_arguments(self, parser):
        parser.add_argument("--days", type=float, default=settings.BUS["RETENTION_DAYS"],
                            help="keep this many days (default: BUS_RETENTION_DAYS, %(default)s); longer than "
                                 "any consumer may stay stopped, or a second copy of a message could be handled "
                                 "again")
        parser.add_argument("--service", choices=settings.SERVICES, help="only this service (default: all)")
        parser.add_argument("--whole", action="store_true",
                            help="read every row, not only up to the period: once after an upgrade, for outbox "
                                 "rows with the random ids written before the shop minted time-ordered ones")
        parser.add_argument("--dry-run", action="store_true", help="count what would go, delete nothing")

    def handle(self, *args, days, service, whole, dry_run, **options):
        if not days >= 1:
            raise CommandError(f"--days {days:g}: keep at least one day, longer than any consumer may stay stopped")
        before = timezone.now() - timedelta(days=days)
        verb = "would delete" if dry_run else "deleted"
        for name in [service] if service else settings.SERVICES:
            pruned = prune(name, before=before, whole=whole, dry_run=dry_run)
            self.stdout.write(f"{name}: {verb} {pruned.outbox} sent outbox rows and {pruned.inbox} inbox rows "
                              f"from before {before.isoformat(timespec='seconds')}")
