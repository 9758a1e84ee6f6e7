"""The envelope every message travels in, and its decoding: tolerant of what it does not know, strict about
what it does (docs/messages.md)."""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from pydantic import ValidationError

from shopsite.contracts import MESSAGE_TYPES, Message, NotSendableAsPrevious
from shopsite.ids import uuid7

log = logging.getLogger(__name__)

ENVELOPE_KEYS = {"id", "type", "version", "occurred_at", "producer", "correlation_id", "causation_id", "payload"}


class InvalidMessage(Exception):
    """A delivery that can never be handled: it goes straight to dead letters."""


@dataclass(frozen=True, slots=True)
class Envelope:
    type: str
    version: int
    producer: str
    payload: dict[str, Any]
    correlation_id: uuid.UUID
    causation_id: uuid.UUID | None = None
    id: uuid.UUID = field(default_factory=uuid7)
    occurred_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))

    @classmethod
    def wrap(cls, message: Message, *, producer: str, correlation_id: uuid.UUID,
             causation_id: uuid.UUID | None = None, version: int | None = None) -> Envelope:
        """``message`` in an envelope, as its own version or, during a rollout, as ``version`` (the one before)."""
        version, payload = _payload_as(message, message.VERSION if version is None else version)
        return cls(
            type=message.TYPE,
            version=version,
            producer=producer,
            payload=payload,
            correlation_id=correlation_id,
            causation_id=causation_id,
        )

    def to_json(self) -> str:
        return json.dumps(
            {
                "id": str(self.id),
                "type": self.type,
                "version": self.version,
                "occurred_at": self.occurred_at.isoformat(),
                "producer": self.producer,
                "correlation_id": str(self.correlation_id),
                "causation_id": str(self.causation_id) if self.causation_id else None,
                "payload": self.payload,
            },
            separators=(",", ":"),
        )

    def message(self) -> Message:
        """The typed message inside, validated against its contract."""
        contract = MESSAGE_TYPES.get(self.type)
        if contract is None:
            raise InvalidMessage(f"unknown message type {self.type!r}")
        payload, version = self.payload, self.version
        try:
            # An older version is brought up to date one version at a time.
            while version < contract.VERSION and version in contract.UPCASTERS:
                payload, version = contract.UPCASTERS[version](payload), version + 1
        except (TypeError, ValueError, KeyError, AttributeError) as exc:
            raise InvalidMessage(f"{self.type} version {self.version} could not be upcast: {exc}") from exc
        if version != contract.VERSION:
            readable = " or ".join(map(str, sorted({*contract.UPCASTERS, contract.VERSION})))
            # Parked with the reason: a newer version can be replayed once this consumer is upgraded.
            newer = "; newer than this consumer reads" if self.version > contract.VERSION else ""
            raise InvalidMessage(f"{self.type} version {self.version} is not supported (expected {readable}){newer}")
        try:
            # Fields this release does not know (a newer producer's additions) are ignored, at every depth; the
            # ones it knows must still be right.
            return contract.model_validate(payload, extra="ignore")
        except ValidationError as exc:
            raise InvalidMessage(f"payload does not match {self.type} v{contract.VERSION}: {_short(exc)}") from exc

    @classmethod
    def from_json(cls, body: bytes | str) -> Envelope:
        try:
            data = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InvalidMessage(f"malformed JSON: {exc}") from exc
        # A key a newer release added to the envelope is ignored, like a field of the payload.
        if not isinstance(data, dict) or not ENVELOPE_KEYS <= set(data):
            raise InvalidMessage(f"not an envelope: expected the keys {sorted(ENVELOPE_KEYS)}")
        try:
            return cls(
                id=uuid.UUID(data["id"]),
                type=_text(data["type"], "type"),
                version=_int(data["version"], "version"),
                occurred_at=datetime.fromisoformat(data["occurred_at"]),
                producer=_text(data["producer"], "producer"),
                correlation_id=uuid.UUID(data["correlation_id"]),
                causation_id=uuid.UUID(data["causation_id"]) if data["causation_id"] else None,
                payload=_dict(data["payload"]),
            )
        except (TypeError, ValueError, AttributeError) as exc:
            raise InvalidMessage(f"invalid envelope: {exc}") from exc


def _payload_as(message: Message, version: int) -> tuple[int, dict[str, Any]]:
    """The version ``message`` goes as, and its payload: ``version``, unless the previous version cannot carry
    this message, which then goes as its own (parked by a consumer still on the previous version, never cut)."""
    payload = message.model_dump(mode="json")
    if version == message.VERSION:
        return version, payload
    if version == message.VERSION - 1 and version in message.DOWNCASTERS:
        try:
            return version, message.DOWNCASTERS[version](payload)
        except NotSendableAsPrevious as exc:
            log.warning("%s sent as version %s, not the pinned %s: %s", message.TYPE, message.VERSION, version, exc)
            return message.VERSION, payload
    raise ValueError(f"{message.TYPE} is sent as version {' or '.join(map(str, sendable_versions(type(message))))}, "
                     f"not {version}")


def sendable_versions(contract: type[Message]) -> list[int]:
    """The versions a producer may send ``contract`` as: its own, and the one before when it has a downcaster."""
    return sorted({contract.VERSION, *(v for v in contract.DOWNCASTERS if v == contract.VERSION - 1)})


def _text(value: Any, name: str) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{name} must be a non-empty string")
    return value


def _int(value: Any, name: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError(f"{name} must be an integer")
    return value


def _dict(value: Any) -> dict:
    if not isinstance(value, dict):
        raise ValueError("payload must be an object")
    return value


def _short(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(map(str, e['loc'])) or '<root>'}: {e['msg']}" for e in exc.errors()[:5])
