"""Each message type's JSON Schema, and the snapshots of them committed under docs/schemas/.

One file per type and version (``cart.checked_out.v2.json``). The current
version's snapshot follows its contract as long as a change is compatible
(``shopsite/bus/compatibility.py``); once the version is bumped, the old file
is frozen: it records what messages of that version held, for as long as any
may still be queued or parked. ``manage.py message_schemas`` writes them, and
tests/bus/test_schema_snapshots.py fails when they are out of date.
"""

from __future__ import annotations

import enum
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shopsite.bus.compatibility import breaking_changes
from shopsite.contracts import MESSAGE_TYPES, Message

#: Beside the docs rather than inside the package: people read them, no process needs them to run.
SNAPSHOTS = Path(__file__).resolve().parents[2] / "docs" / "schemas"
_SNAPSHOT_NAME = re.compile(r"^(?P<type>[a-z_.]+)\.v(?P<version>[1-9][0-9]*)\.json$")


def message_schema(contract: type[Message]) -> dict[str, Any]:
    """The JSON Schema of a message's payload, as a consumer checks it (pydantic's validation mode)."""
    return contract.model_json_schema(mode="validation")


def render(schema: dict[str, Any]) -> str:
    """The text of a snapshot: the same schema always gives the same bytes, so git shows only real changes."""
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def snapshot_path(message_type: str, version: int, directory: Path = SNAPSHOTS) -> Path:
    return directory / f"{message_type}.v{version}.json"


class Status(enum.Enum):
    SAME = "up to date"
    NEW = "no snapshot yet"
    COMPATIBLE = "changed compatibly"
    BREAKING = "changed incompatibly"


@dataclass(frozen=True)
class Verdict:
    """How a message type's current schema stands against its committed snapshot."""

    message_type: str
    version: int
    status: Status
    schema: dict[str, Any]
    path: Path
    #: what breaks, one readable line each ("cart.checked_out v2: field lines[].quantity changed type …")
    changes: list[str]


def verdict(message_type: str, version: int, schema: dict[str, Any], directory: Path = SNAPSHOTS) -> Verdict:
    path = snapshot_path(message_type, version, directory)
    schema = json.loads(render(schema))  # as it would read back from the file: lists, not tuples
    changes: list[str] = []
    if not path.exists():
        status = Status.NEW
    else:
        snapshot = json.loads(path.read_text())
        changes = [f"{message_type} v{version}: {change}" for change in breaking_changes(snapshot, schema)]
        status = Status.SAME if snapshot == schema else Status.BREAKING if changes else Status.COMPATIBLE
    return Verdict(message_type, version, status, schema, path, changes)


def contract_verdict(contract: type[Message], directory: Path = SNAPSHOTS) -> Verdict:
    return verdict(contract.TYPE, contract.VERSION, message_schema(contract), directory)


def current_verdicts(directory: Path = SNAPSHOTS) -> list[Verdict]:
    return [contract_verdict(MESSAGE_TYPES[name], directory) for name in sorted(MESSAGE_TYPES)]


def write_snapshot(found: Verdict) -> None:
    """Write the current version's snapshot, unless that would hide a breaking change."""
    if found.status is Status.BREAKING:
        raise ValueError(f"{found.path.name} changed incompatibly: bump VERSION instead")
    found.path.parent.mkdir(parents=True, exist_ok=True)
    found.path.write_text(render(found.schema))


def stray_snapshots(directory: Path = SNAPSHOTS) -> list[str]:
    """What is wrong with the snapshots on disk, apart from the current versions' contents.

    Every file names a message type that exists and one of its versions, the
    current one or an older one. An older version is kept even once no
    consumer reads it any more: it stays the record of what was sent, and it
    costs nothing. Each version still read through an upcaster needs its
    snapshot, since that is the schema the upcaster takes.
    """
    problems = []
    on_disk: set[tuple[str, int]] = set()
    for path in sorted(directory.glob("*.json")):
        match = _SNAPSHOT_NAME.match(path.name)
        contract = MESSAGE_TYPES.get(match["type"]) if match else None
        if contract is None:
            problems.append(f"{path.name}: no message type of that name (delete the snapshots of a removed type)")
        elif int(match["version"]) > contract.VERSION:
            problems.append(f"{path.name}: {contract.__name__}.VERSION is only {contract.VERSION}")
        else:
            on_disk.add((contract.TYPE, int(match["version"])))
    for name, contract in sorted(MESSAGE_TYPES.items()):
        for version in sorted(contract.UPCASTERS):
            if (contract.TYPE, version) not in on_disk:
                problems.append(f"{contract.TYPE} v{version} is read through an upcaster but has no snapshot")
    return problems
