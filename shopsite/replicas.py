"""The one way every replica applies what another service told it: a version-guarded upsert.

A replica (the cart's products, the users known to catalog and notifications,
the order summaries in accounts) is fed by messages that may arrive late,
twice, or in any order, and two copies of a consumer may apply two versions
of the same row at the same time. Each message carries the version its
producer gave the row; a replica row keeps the version it was last written
with, and a write applies only if its version is newer:

- a newer version replaces what is stored;
- the same or an older version changes nothing: a repeated message, or a
  late one, never undoes a newer one.

A message from before its producer sent versions is read as version 0, and
among those the last to arrive wins, as it did before versions: otherwise,
while consumers already run this release and the producer does not yet, every
change it publishes would be refused. Once a row holds a versioned message
(1 and up), an unversioned one is older than it and changes nothing.

The check and the write are one statement (``INSERT … ON CONFLICT DO UPDATE
… WHERE``, on SQLite >= 3.24 and PostgreSQL alike), so no reader can slip
between them: on PostgreSQL a competing insert of the same key waits for the
first to commit, then takes the update branch and compares versions against
the committed row.
"""

from __future__ import annotations

import functools

from django.db import connections
from django.db.models import Model
from django.utils import timezone

from shopsite.bus import statements


def replica_upsert(
    model: type[Model],
    *,
    using: str,
    key: dict,
    version: int,
    values: dict,
    version_field: str = "version",
    created_with: dict | None = None,
) -> bool:
    """Insert the row of ``key`` or, if its stored ``version_field`` is older than ``version``, update it
    (both 0, from before versions, counts as older: see above).

    ``values`` are written either way; ``created_with`` only on insert (what a
    partial message needs to create a row but must not overwrite). Fields left
    out get their model defaults on insert and are kept on update; ``auto_now``
    fields are set to now. True if the row was written.
    """
    connection = connections[using]
    now = timezone.now()
    written = {**values, **_stamps(model, now, created=False), version_field: version}
    row = {**_defaults(model, exclude={*key, *written}), **(created_with or {}), **key, **written}
    sql, fields = _upsert_statement(model, using, tuple(row), tuple(key), tuple(written), version_field)
    return _execute(connection, sql, [f.get_db_prep_save(row[f.name], connection) for f in fields])


def replica_update(
    model: type[Model], *, using: str, key: dict, version: int, values: dict, version_field: str = "version"
) -> dict | None:
    """The update half of :func:`replica_upsert`, for a message that can change a row but not create it.

    If the row was written, every field written with its value (``values``, the ``auto_now`` stamps and the
    version), so a caller that read the row first knows it as it is now without reading it again; None if the
    row is absent or already as new (the caller tells which, if it matters).
    """
    connection = connections[using]
    written = {**values, **_stamps(model, timezone.now(), created=False), version_field: version}
    sql, fields = _update_statement(model, using, tuple(written), tuple(key), version_field)
    given = [*written.values(), *key.values(), version, version]
    if _execute(connection, sql, [f.get_db_prep_save(value, connection) for f, value in zip(fields, given)]):
        return written
    return None


def _execute(connection, sql: str, params: list) -> bool:
    # An upsert whose WHERE refused the update reports no row on both databases.
    return statements.run(connection, sql, params) > 0


def _stamps(model: type[Model], now, *, created: bool) -> dict:
    """The ``auto_now`` (and, for a new row, ``auto_now_add``) fields, as ``save()`` would set them."""
    return {
        field.name: now for field in model._meta.concrete_fields
        if getattr(field, "auto_now", False) or (created and getattr(field, "auto_now_add", False))
    }


def _defaults(model: type[Model], *, exclude: set[str]) -> dict:
    """What ``objects.create`` would put in the fields not given: their defaults, or now for timestamps."""
    stamps = _stamps(model, timezone.now(), created=True)
    return {
        field.name: stamps.get(field.name, field.get_default()) for field in model._meta.concrete_fields
        if field.name not in exclude and not field.primary_key
    }


@functools.cache
def _upsert_statement(
    model: type[Model], alias: str, columns: tuple[str, ...], key: tuple[str, ...], written: tuple[str, ...],
    version_field: str,
) -> tuple[str, list]:
    fields, quote, table = _meta(model, alias)
    column = {name: quote(fields[name].column) for name in columns}
    sql = (
        f"INSERT INTO {table} ({', '.join(column[n] for n in columns)}) VALUES ({', '.join(['%s'] * len(columns))}) "
        f"ON CONFLICT ({', '.join(column[n] for n in key)}) DO UPDATE "
        f"SET {', '.join(f'{column[n]} = excluded.{column[n]}' for n in written)} "
        # Compared with the row as committed, after any competing insert of this key has finished.
        f"WHERE {_newer(f'excluded.{column[version_field]}', than=f'{table}.{column[version_field]}')}"
    )
    return sql, [fields[name] for name in columns]


@functools.cache
def _update_statement(
    model: type[Model], alias: str, written: tuple[str, ...], key: tuple[str, ...], version_field: str
) -> tuple[str, list]:
    fields, quote, table = _meta(model, alias)
    sql = (
        f"UPDATE {table} SET {', '.join(f'{quote(fields[n].column)} = %s' for n in written)} "
        f"WHERE {' AND '.join(f'{quote(fields[n].column)} = %s' for n in key)} "
        f"AND {_newer('%s', than=quote(fields[version_field].column))}"
    )
    return sql, [fields[name] for name in (*written, *key, version_field, version_field)]


def _newer(new: str, *, than: str) -> str:
    """The guard, in SQL: ``new`` is a newer version than the stored ``than``, or both are unversioned (0)."""
    return f"({than} < {new} OR ({than} = 0 AND {new} = 0))"


def _meta(model: type[Model], alias: str):
    quote = connections[alias].ops.quote_name
    return {field.name: field for field in model._meta.concrete_fields}, quote, quote(model._meta.db_table)
