from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from shopsite.bus.schemas import SNAPSHOTS, Status, current_verdicts, stray_snapshots, write_snapshot
from shopsite.contracts import MESSAGE_TYPES


class Command(BaseCommand):
    help = ("Write the JSON Schema snapshot of every message type's current version (docs/schemas/), refusing "
            "to overwrite one with an incompatible change; --check only says what is out of date.")

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="write nothing; fail if any snapshot is out of date")
        parser.add_argument("--directory", type=Path, default=SNAPSHOTS, help=f"default: {SNAPSHOTS}")

    def handle(self, *args, check, directory, **options):
        out_of_date, refused = [], []
        for found in current_verdicts(directory):
            if found.status is Status.BREAKING:
                refused.append(found)
            elif found.status is not Status.SAME:
                out_of_date.append(found)
                if not check:
                    write_snapshot(found)
                self.stdout.write(f"{found.path.name}: {found.status.value}{'' if check else ', written'}")
        problems = [change for found in refused for change in found.changes]
        problems += [bump_advice(found) for found in refused] + stray_snapshots(directory)
        if check and out_of_date:
            problems.append("run `manage.py message_schemas` to write the snapshots above")
        if problems:
            raise CommandError("\n".join(problems))
        if not out_of_date:
            self.stdout.write("Every message type's snapshot is up to date.")


def bump_advice(found) -> str:
    contract = MESSAGE_TYPES[found.message_type]
    return (f"{found.path.name} is left as it is: to make this change, set {contract.__name__}.VERSION = "
            f"{found.version + 1}, read version {found.version} through an upcaster ({contract.__name__}.UPCASTERS"
            f"[{found.version}]), send it through a downcaster ({contract.__name__}.DOWNCASTERS[{found.version}]) "
            f"and run this command again (docs/schemas.md, docs/messages.md)")
