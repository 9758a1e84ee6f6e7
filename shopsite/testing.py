"""Helpers for the tests of every service."""

from __future__ import annotations

import json

from django.db import router

from shopsite.bus.models import OutboxMessage


def recorded(outbox: type[OutboxMessage], type: str | None = None) -> list[dict]:
    """The payloads a service recorded in its outbox, oldest first."""
    rows = outbox.objects.using(router.db_for_read(outbox)).order_by("created_at", "id")
    if type is not None:
        rows = rows.filter(type=type)
    return [json.loads(row.body)["payload"] for row in rows]
