"""Statements built once and reused, for the writes every message makes.

Every message writes an inbox row where it is handled and an outbox row for
each message it causes, and the saga's steps each move an order, a
reservation or a charge a step on. Building a statement through the ORM costs
more than the database spends running it (about a third of a consumer's CPU
went to compiling SQL), so these few shapes are built once per table and
column set and then only run. Values still pass through each field's own
conversion, and rows read back through the backend's and the field's
converters, so what is written and read is exactly what the ORM's
``objects.create`` (``bulk_create`` for several rows), ``filter(...).update(...)``,
``filter(...).first()`` and ``filter(...).delete()`` would write, read and delete
(``insert_returning``, ``update_returning`` and ``delete_returning`` also give back
the rows they wrote, changed or deleted, in the same statement).

The shapes are deliberately few: a comparison (``=``, or ``IN`` for a tuple;
``__gte`` and the like; ``__isnull``) on each named field, every concrete
field read, a column set or added to (``Add``), and one join: a row with the
row its foreign key names (``select_related_one``, the API token and its
user). Anything else belongs to the ORM.

They also run on a cursor kept for its connection (``run``) rather than on
a new Django cursor each time: making the cursor and its wrapper cost more
than a third of what a statement costs this process on PostgreSQL. What
Django's cursor does around a statement is kept: the check that the
transaction is not broken, its errors turned into Django's, the execute
wrappers (tracing's spans); and while queries are being logged (``DEBUG``,
``assertNumQueries``) statements go through Django's cursor, to be logged.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar

from django.db import connections
from django.db.models import Field, Model

M = TypeVar("M", bound=Model)

#: The lookups a ``where`` key may end with (``stock_on_hand__gte``), as the ORM spells them.
OPERATORS = {"exact": "=", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}


@dataclass(frozen=True)
class Add:
    """A value for ``update``: the column plus ``amount`` (the ORM's ``F(column) + amount``)."""

    amount: int


def _fields(model: type[Model]) -> dict[str, Field]:
    """The concrete fields by name, by attribute name (``order_id`` for ``order``) and ``pk``."""
    fields = {field.name: field for field in model._meta.concrete_fields}
    fields.update({field.attname: field for field in model._meta.concrete_fields})
    fields["pk"] = model._meta.pk
    return fields


def _where(model: type[Model], alias: str, shape: tuple[tuple[str, int | str | None], ...], qualified: bool = False
           ) -> tuple[str, list[Field | None]]:
    """``WHERE`` for (key, size) pairs: the key's comparison, or ``IN`` of ``size`` values when size is a number;
    for ``__isnull``, ``IS NULL`` or ``IS NOT NULL`` as size says, with no value sent (its field is None).
    ``qualified``: each column named with its table, for a statement that joins another."""
    quote = connections[alias].ops.quote_name
    fields = _fields(model)
    table = f"{quote(model._meta.db_table)}." if qualified else ""
    terms, where_fields = [], []
    for key, size in shape:
        name, _, lookup = key.partition("__")
        column = table + quote(fields[name].column)
        if lookup == "isnull":
            terms.append(f"{column} IS {size}")
            where_fields.append(None)
            continue
        terms.append(f"{column} {OPERATORS[lookup or 'exact']} %s" if size is None
                     else f"{column} IN ({', '.join(['%s'] * size)})")
        where_fields.append(fields[name])
    return " AND ".join(terms), where_fields


def _shape(where: dict) -> tuple[tuple[str, int | str | None], ...]:
    return tuple((key, ("NULL" if value else "NOT NULL") if key.endswith("__isnull")
                  else len(value) if isinstance(value, tuple) else None) for key, value in where.items())


def _matches_nothing(where: dict) -> bool:
    """An empty tuple is ``IN ()``, which SQL cannot say and the ORM answers with no rows without asking."""
    return any(isinstance(value, tuple) and not value for value in where.values())


def run(connection, sql: str, params: list, *, rows: bool = False) -> list | int:
    """Run ``sql`` on ``connection`` (Django's); its rows if ``rows``, else how many rows it changed.

    For statements built once elsewhere too (shopsite/replicas.py)."""
    if connection.queries_logged:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall() if rows else cursor.rowcount
    # What BaseDatabaseWrapper.cursor() does before handing a cursor out.
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    cursor = connection.__dict__.get("_statement_cursor")
    if cursor is None or cursor.connection is not connection.connection:  # none yet, or of a closed connection
        cursor = connection.__dict__["_statement_cursor"] = connection.create_cursor()
    wrappers = connection.execute_wrappers
    if wrappers:
        # As CursorWrapper._execute_with_wrappers chains them, the last one closest to the database.
        executor = functools.partial(_execute, connection, cursor)
        for wrapper in reversed(wrappers):
            executor = functools.partial(wrapper, executor)
        executor(sql, params, False, {"connection": connection, "cursor": cursor})
    else:
        _execute(connection, cursor, sql, params)
    return cursor.fetchall() if rows else cursor.rowcount


def _execute(connection, cursor, sql: str, params: list, many: bool = False, context: dict | None = None) -> None:
    """What CursorWrapper._execute does: refuse a broken transaction, and raise Django's errors."""
    connection.validate_no_broken_transaction()
    with connection.wrap_database_errors:
        cursor.execute(sql, params)


def _where_params(fields: list[Field | None], where: dict, connection) -> list:
    params = []
    for field, value in zip(fields, where.values()):
        if field is None:  # IS NULL, IS NOT NULL
            continue
        for one in value if isinstance(value, tuple) else (value,):
            params.append(field.get_db_prep_value(one, connection, prepared=False))
    return params


@functools.cache
def _insert_statement(model: type[Model], alias: str, columns: tuple[str, ...], unique: tuple[str, ...],
                      rows: int = 1, returning: bool = False, settings: int = 0) -> tuple[str, list[Field]]:
    """``settings``: how many (name, value) pairs of parameters after the rows' are PostgreSQL settings to set
    for the rest of the transaction before the first row is written (``set_local``)."""
    quote = connections[alias].ops.quote_name
    fields = _fields(model)
    row = f"({', '.join(['%s'] * len(columns))})"
    values = f"VALUES {', '.join([row] * rows)}"
    if settings:  # a one-time filter, evaluated before the first row is written
        values = (f"SELECT * FROM ({values}) AS v WHERE "
                  + " AND ".join(["set_config(%s, %s, true) IS NOT NULL"] * settings))
    sql = f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(quote(fields[n].column) for n in columns)}) {values}"
    if unique:
        sql += f" ON CONFLICT ({', '.join(quote(fields[n].column) for n in unique)}) DO NOTHING"
    if returning:
        sql += f" RETURNING {_columns(model, alias)}"
    return sql, [fields[name] for name in columns]


def _insert_params(model: type[Model], using: str, rows: list[dict], unless_exists: tuple[str, ...],
                   returning: bool = False, set_local: dict[str, str] | None = None) -> tuple[str, list]:
    """The statement and parameters inserting ``rows`` (dicts with the same keys, in the same order)."""
    connection = connections[using]
    sql, fields = _insert_statement(model, using, tuple(rows[0]), unless_exists, len(rows), returning,
                                    len(set_local or ()))
    params = []
    for values in rows:
        params.extend(field.get_db_prep_save(value, connection) for field, value in zip(fields, values.values()))
    for setting in (set_local or {}).items():
        params.extend(setting)
    return sql, params


def insert(model: type[Model], using: str, values: dict, *, unless_exists: tuple[str, ...] = ()) -> int:
    """Insert one row of ``model``; with ``unless_exists``, skip it if those fields clash. Rows written."""
    return insert_many(model, using, [values], unless_exists=unless_exists)


def insert_many(model: type[Model], using: str, rows: list[dict], *, unless_exists: tuple[str, ...] = ()) -> int:
    """Insert ``rows`` of ``model`` (dicts with the same keys, in the same order) in one statement; with
    ``unless_exists``, skip those whose fields clash with a stored row or an earlier one of ``rows``. Rows written."""
    if not rows:
        return 0
    return run(connections[using], *_insert_params(model, using, rows, unless_exists))


def insert_returning(model: type[M], using: str, rows: list[dict], *, unless_exists: tuple[str, ...] = (),
                     set_local: dict[str, str] | None = None) -> list[M]:
    """``insert_many``, and the rows it wrote as they are stored (``INSERT … RETURNING``), in no set order: with
    ``unless_exists``, the rows skipped are the ones missing.

    ``set_local`` (PostgreSQL only): settings the same statement sets for the rest of the transaction, before
    it writes its first row, as ``SET LOCAL`` would (``set_config(name, value, true)``), without a round
    trip of their own.
    """
    if not rows:
        return []
    if set_local and connections[using].vendor != "postgresql":
        raise ValueError("set_local is for PostgreSQL's settings")
    return _objects(model, using, run(connections[using],
                                      *_insert_params(model, using, rows, unless_exists, True, set_local), rows=True))


def insert_tables(using: str, tables: list[tuple[type[Model], list[dict]]]) -> None:
    """``insert_many`` of each (model, rows) of ``tables``: on PostgreSQL in one statement (each table's
    ``INSERT`` but the last a data-modifying ``WITH`` of the last), one round trip; one a table elsewhere."""
    tables = [(model, rows) for model, rows in tables if rows]
    connection = connections[using]
    if len(tables) < 2 or connection.vendor != "postgresql":
        for model, rows in tables:
            insert_many(model, using, rows)
        return
    parts, params = [], []
    for model, rows in tables:
        sql, values = _insert_params(model, using, rows, ())
        parts.append(sql)
        params.extend(values)
    run(connection, "WITH " + ", ".join(f"held_{i} AS ({sql})" for i, sql in enumerate(parts[:-1]))
        + " " + parts[-1], params)


@functools.cache
def _created_columns(model: type[Model]) -> tuple[str, ...]:
    """Every concrete field but an auto-increment key, which the database gives."""
    return tuple(field.name for field in model._meta.concrete_fields
                 if not (field.primary_key and field.get_internal_type() in ("AutoField", "BigAutoField")))


def create(using: str, *objects: M, unless_exists: tuple[str, ...] = ()) -> int:
    """Insert ``objects`` (of one model) in one statement, as ``objects.create`` or ``bulk_create`` would;
    with ``unless_exists``, skip those whose fields clash with a stored row. Rows written.

    Defaults and ``auto_now``/``auto_now_add`` fields are filled in on the
    objects first. An auto-increment key is left to the database and not read
    back: use the ORM where the new id is needed.
    """
    return insert_many(type(objects[0]), using, [_created_values(using, obj) for obj in objects],
                       unless_exists=unless_exists)


def _created_values(using: str, obj: Model) -> dict:
    """What ``create`` writes of ``obj``, by field name; fills in its defaults and ``auto_now`` fields."""
    obj._state.adding, obj._state.db = False, using
    fields = _fields(type(obj))
    return {name: fields[name].pre_save(obj, add=True) for name in _created_columns(type(obj))}


# --- rows written as the transaction's last statement -------------------------

_held = threading.local()


@contextmanager
def inserts_held(using: str) -> Iterator[None]:
    """Write the rows given to ``insert_later`` and ``create_later`` for ``using`` inside the block together as
    it ends: one statement on PostgreSQL (``insert_tables``), one ``INSERT`` a table elsewhere.

    For a transaction, enclosing the block, that is undone whole or not at all, and for rows nothing reads
    before its commit, not even a later message of the same batch: outbox rows, an order's timeline, the
    lines of an order just placed (what reads them comes from messages its commit causes), the charge or
    email a message led to (a second one for the same order would clash with the first's unique key as the
    block ends, and the batch be handled again a savepoint a message). Not a stock reservation: an order
    cancelled before it was reserved can be released in the same batch, and must find it. A consumer's
    message, or its batch of them, then sends one statement for all of these rather than one for each
    (each a round trip on PostgreSQL). A row given inside a savepoint opened within the block is written at
    once, so that rolling the savepoint back undoes it. A block left by an exception writes nothing: the
    transaction is being rolled back. A held row that cannot be written (a clash with a unique key) raises
    as the block ends, inside the same transaction, which then fails as it would have.
    """
    if getattr(_held, "rows", None) is not None:
        raise RuntimeError("inserts are held already in this thread")
    rows: dict[tuple[type[Model], tuple[str, ...]], list[dict]] = {}
    # Django lists a None for each atomic block without a savepoint of its own (message_transaction's).
    _held.rows, _held.db, _held.depth = rows, using, len(connections[using].savepoint_ids)
    try:
        yield
    finally:
        _held.rows = None
    insert_tables(using, [(model, values) for (model, _), values in rows.items()])


def _holding(using: str) -> dict | None:
    """Where the rows held for ``using`` go, if rows written now on it would be held."""
    held = getattr(_held, "rows", None)
    if held is not None and _held.db == using and not any(connections[using].savepoint_ids[_held.depth:]):
        return held
    return None


def insert_later(model: type[Model], using: str, values: dict) -> None:
    """``insert`` ``values`` as the enclosing ``inserts_held`` block ends; at once outside one, or inside a
    savepoint opened within it."""
    held = _holding(using)
    if held is None:
        insert(model, using, values)
    else:
        held.setdefault((model, tuple(values)), []).append(values)


def create_later(using: str, *objects: Model) -> None:
    """``create`` (of one model) as ``insert_later`` inserts: the objects' defaults are filled in now, their
    rows written as the enclosing ``inserts_held`` block ends. An auto-increment key is left to the database."""
    held = _holding(using)
    if held is None:
        create(using, *objects)
        return
    model = type(objects[0])
    held.setdefault((model, _created_columns(model)), []).extend(_created_values(using, obj) for obj in objects)


def _columns(model: type[Model], alias: str, qualified: bool = False) -> str:
    """Every concrete column of ``model``, in field order; ``qualified``: each named with its table."""
    quote = connections[alias].ops.quote_name
    table = f"{quote(model._meta.db_table)}." if qualified else ""
    return ", ".join(table + quote(field.column) for field in model._meta.concrete_fields)


@functools.cache
def _update_statement(model: type[Model], alias: str, shape: tuple, columns: tuple[tuple[str, bool], ...],
                      returning: bool = False) -> tuple[str, list[Field], list[Field]]:
    quote = connections[alias].ops.quote_name
    fields = _fields(model)
    where, where_fields = _where(model, alias, shape)
    assignments = ", ".join(
        f"{quote(fields[name].column)} = {quote(fields[name].column)} + %s" if added
        else f"{quote(fields[name].column)} = %s" for name, added in columns
    )
    sql = f"UPDATE {quote(model._meta.db_table)} SET {assignments} WHERE {where}"
    if returning:
        sql += f" RETURNING {_columns(model, alias)}"
    return sql, [fields[name] for name, _ in columns], where_fields


def _update_params(model: type[Model], using: str, where: dict, values: dict, returning: bool
                   ) -> tuple[str, list]:
    connection = connections[using]
    columns = tuple((name, isinstance(value, Add)) for name, value in values.items())
    sql, value_fields, where_fields = _update_statement(model, using, _shape(where), columns, returning)
    params = [value.amount if isinstance(value, Add) else field.get_db_prep_save(value, connection)
              for field, value in zip(value_fields, values.values())]
    return sql, params + _where_params(where_fields, where, connection)


def update(model: type[Model], using: str, where: dict, values: dict) -> int:
    """``filter(**where).update(**values)``, for the comparisons ``where`` may hold; rows changed.

    A value may be ``Add(n)``: the column plus n.
    """
    if _matches_nothing(where):
        return 0
    sql, params = _update_params(model, using, where, values, returning=False)
    return run(connections[using], sql, params)


def update_returning(model: type[M], using: str, where: dict, values: dict) -> list[M]:
    """``update``, and the rows it changed as they are after it (``UPDATE … RETURNING``), in no set order:
    one statement where the ORM needs an update and then a select."""
    if _matches_nothing(where):
        return []
    sql, params = _update_params(model, using, where, values, returning=True)
    return _objects(model, using, run(connections[using], sql, params, rows=True))


@functools.cache
def _select_statement(model: type[Model], alias: str, shape: tuple, for_update: bool) -> tuple[str, list[Field]]:
    connection = connections[alias]
    quote = connection.ops.quote_name
    where, where_fields = _where(model, alias, shape)
    sql = (f"SELECT {_columns(model, alias)} FROM {quote(model._meta.db_table)} WHERE {where} "
           f"ORDER BY {quote(model._meta.pk.column)}")
    if for_update and connection.features.has_select_for_update:  # SQLite locks the whole database anyway
        sql += " FOR UPDATE"
    return sql, where_fields


def _converters(model: type[Model], connection) -> tuple[list[str], list[tuple]]:
    """The attribute names of ``model``'s columns and each column's converters, as the ORM's compiler applies them
    (the backend's, then the field's). Kept on the connection itself, which belongs to one thread: the backend's
    converters are bound to their connection's ``ops``, so another thread's are never used."""
    cache = connection.__dict__.setdefault("_statement_converters", {})
    found = cache.get(model)
    if found is None:
        table, fields = model._meta.db_table, model._meta.concrete_fields
        converters = []
        for field in fields:
            column = field.get_col(table)
            converters.append((column, connection.ops.get_db_converters(column) + field.get_db_converters(connection)))
        found = cache[model] = ([field.attname for field in fields], converters)
    return found


def select(model: type[M], using: str, *, for_update: bool = False, **where) -> list[M]:
    """``filter(**where).order_by("pk")``, for the comparisons ``where`` may hold; ``for_update``: locked, as
    ``select_for_update()`` locks them."""
    if _matches_nothing(where):
        return []
    connection = connections[using]
    sql, where_fields = _select_statement(model, using, _shape(where), for_update)
    return _objects(model, using, run(connection, sql, _where_params(where_fields, where, connection), rows=True))


def _objects(model: type[M], using: str, rows: list[tuple]) -> list[M]:
    """Model instances of ``rows`` (every concrete column, in field order), as the ORM reads them."""
    if not rows:
        return []
    connection = connections[using]
    names, converters = _converters(model, connection)
    objects = []
    for row in rows:
        values = []
        for value, (column, functions) in zip(row, converters):
            for function in functions:
                value = function(value, column, connection)
            values.append(value)
        objects.append(model.from_db(using, names, values))
    return objects


def select_one(model: type[M], using: str, *, for_update: bool = False, **where) -> M | None:
    """The first row ``select`` finds, or None."""
    found = select(model, using, for_update=for_update, **where)
    return found[0] if found else None


@functools.cache
def _select_related_statement(model: type[Model], alias: str, related: str, shape: tuple
                              ) -> tuple[str, list[Field], type[Model]]:
    quote = connections[alias].ops.quote_name
    foreign_key = model._meta.get_field(related)
    other = foreign_key.related_model
    table, other_table = quote(model._meta.db_table), quote(other._meta.db_table)
    where, where_fields = _where(model, alias, shape, qualified=True)
    sql = (f"SELECT {_columns(model, alias, qualified=True)}, {_columns(other, alias, qualified=True)} "
           f"FROM {table} INNER JOIN {other_table} "
           f"ON {other_table}.{quote(foreign_key.target_field.column)} = {table}.{quote(foreign_key.column)} "
           f"WHERE {where} ORDER BY {table}.{quote(model._meta.pk.column)}")
    return sql, where_fields, other


def select_related_one(model: type[M], using: str, related: str, **where) -> M | None:
    """``filter(**where).select_related(related).order_by("pk").first()`` for a foreign key that cannot be null:
    the first row and the row it refers to, in one statement (one round trip where the ORM without
    ``select_related`` takes two), or None."""
    if _matches_nothing(where):
        return None
    connection = connections[using]
    sql, where_fields, other = _select_related_statement(model, using, related, _shape(where))
    rows = run(connection, sql, _where_params(where_fields, where, connection), rows=True)
    if not rows:
        return None
    width = len(model._meta.concrete_fields)
    [found], [referred] = _objects(model, using, [rows[0][:width]]), _objects(other, using, [rows[0][width:]])
    setattr(found, related, referred)  # the foreign key's cache, as select_related fills it
    return found


@functools.cache
def _delete_statement(model: type[Model], alias: str, shape: tuple, returning: bool = False
                      ) -> tuple[str, list[Field]]:
    where, where_fields = _where(model, alias, shape)
    sql = f"DELETE FROM {connections[alias].ops.quote_name(model._meta.db_table)} WHERE {where}"
    if returning:
        sql += f" RETURNING {_columns(model, alias)}"
    return sql, where_fields


def delete(model: type[Model], using: str, **where) -> int:
    """``filter(**where).delete()`` for a model that nothing refers to (no cascade, no signals); rows deleted."""
    if _matches_nothing(where):
        return 0
    connection = connections[using]
    sql, where_fields = _delete_statement(model, using, _shape(where))
    return run(connection, sql, _where_params(where_fields, where, connection))


def delete_returning(model: type[M], using: str, **where) -> list[M]:
    """``delete``, and the rows it deleted as they were (``DELETE … RETURNING``), in no set order: one statement
    where the ORM needs a select and then a delete."""
    if _matches_nothing(where):
        return []
    connection = connections[using]
    sql, where_fields = _delete_statement(model, using, _shape(where), returning=True)
    return _objects(model, using, run(connection, sql, _where_params(where_fields, where, connection), rows=True))
