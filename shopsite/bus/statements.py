"""One INSERT statement per bus table, built once and reused.

Every message writes an inbox row where it is handled and an outbox row for
each message it causes. Building an INSERT through the ORM costs more than the
database spends running it, so the bus builds the statement once per table
and column set. Values still pass through each field's own conversion, so the
rows are exactly what ``objects.create`` would have written.
"""

from __future__ import annotations

import functools

from django.db import connections
from django.db.models import Model


@functools.cache
def _statement(model: type[Model], alias: str, columns: tuple[str, ...], unique: tuple[str, ...]) -> tuple[str, list]:
    connection = connections[alias]
    fields = {field.name: field for field in model._meta.concrete_fields}
    quote = connection.ops.quote_name
    sql = (
        f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(quote(fields[n].column) for n in columns)}) "
        f"VALUES ({', '.join(['%s'] * len(columns))})"
    )
    if unique:
        sql += f" ON CONFLICT ({', '.join(quote(fields[n].column) for n in unique)}) DO NOTHING"
    return sql, [fields[name] for name in columns]


def insert(model: type[Model], using: str, values: dict, *, unless_exists: tuple[str, ...] = ()) -> int:
    """Insert one row of ``model``; with ``unless_exists``, skip it if those fields clash. Rows written."""
    connection = connections[using]
    sql, fields = _statement(model, using, tuple(values), unless_exists)
    params = [field.get_db_prep_save(value, connection) for field, value in zip(fields, values.values())]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount
