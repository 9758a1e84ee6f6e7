"""The statements built once run on a cursor kept for their connection (shopsite/bus/statements.py ``run``).

What Django's cursor does around a statement must still happen: its errors
are Django's, a broken transaction is refused, execute wrappers (tracing's
spans) see each statement, and while queries are logged they are logged. On
SQLite (the orders test database) and on PostgreSQL through the shop's own
backend (shopsite/db/postgresql), whose health check sends nothing to a
server that has said nothing, and still replaces a connection the server ended.
"""

import time
import uuid

import psycopg
import pytest
from django.db import IntegrityError, connections, transaction
from django.db.transaction import TransactionManagementError
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from orders.models import InboxMessage
from shopsite.bus import statements
from tests.postgres import fresh_database

pytestmark = pytest.mark.django_db(databases=["orders"])

ALIAS = "statement_cursor_pg"
SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"


@pytest.fixture
def postgres_database(django_db_blocker):
    """A fresh PostgreSQL database with orders' inbox, configured as settings.py configures a service's."""
    with fresh_database(ALIAS, django_db_blocker, [InboxMessage], ENGINE="shopsite.db.postgresql", CONN_MAX_AGE=600,
                        CONN_HEALTH_CHECKS=True, OPTIONS={"server_side_binding": True, "prepare_threshold": 2}) as alias:
        yield alias


def an_inbox_row(alias: str, message_id: uuid.UUID | None = None, *, unless_exists: bool = True) -> int:
    values = {"message_id": message_id or uuid.uuid4(), "handler": "orders.test", "type": "test.happened",
              "correlation_id": uuid.uuid4(), "processed_at": timezone.now()}
    return statements.insert(InboxMessage, alias, values,
                             unless_exists=("message_id", "handler") if unless_exists else ())


def rows(alias: str, message_id: uuid.UUID) -> list:
    return statements.select(InboxMessage, alias, message_id=message_id)


def check_what_djangos_cursor_did(alias: str) -> None:
    message_id = uuid.uuid4()
    assert an_inbox_row(alias, message_id) == 1
    assert an_inbox_row(alias, message_id) == 0  # the rowcount of the kept cursor, not of an earlier statement

    # One cursor for the connection, not one per statement.
    kept = connections[alias].__dict__["_statement_cursor"]
    assert [row.message_id for row in rows(alias, message_id)] == [message_id]
    assert connections[alias].__dict__["_statement_cursor"] is kept

    # Its errors are Django's.
    with pytest.raises(IntegrityError):
        with transaction.atomic(using=alias):
            an_inbox_row(alias, message_id, unless_exists=False)

    # A transaction that can no longer commit refuses the next statement, as the ORM's would.
    with pytest.raises(TransactionManagementError):
        with transaction.atomic(using=alias):
            try:
                with transaction.atomic(using=alias, savepoint=False):
                    an_inbox_row(alias, message_id, unless_exists=False)
            except IntegrityError:
                pass
            rows(alias, message_id)

    # Execute wrappers (tracing's spans) see each statement and hand its result on.
    seen = []

    def wrapper(execute, sql, params, many, context):
        seen.append((sql, context["connection"].alias))
        return execute(sql, params, many, context)

    with connections[alias].execute_wrapper(wrapper):
        assert len(rows(alias, message_id)) == 1
    assert len(seen) == 1 and seen[0][0].startswith("SELECT ") and seen[0][1] == alias

    # Logged while queries are logged.
    with CaptureQueriesContext(connections[alias]) as logged:
        assert an_inbox_row(alias) == 1
    assert len(logged.captured_queries) == 1 and "INSERT INTO" in logged.captured_queries[0]["sql"]


def test_on_sqlite_the_kept_cursor_does_what_djangos_did():
    check_what_djangos_cursor_did("orders")


def test_on_postgresql_the_kept_cursor_does_what_djangos_did(postgres_database):
    check_what_djangos_cursor_did(postgres_database)


def check_several_rows_in_one_statement(alias: str) -> None:
    """``insert_many`` and ``insert_returning`` (the consumer's inbox claims): one statement, the clashing rows
    skipped, a stored one's and a repeated one's alike, and the rows written given back as the ORM reads them."""
    stored, new, repeated = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    an_inbox_row(alias, stored)

    def row(message_id: uuid.UUID) -> dict:
        return {"message_id": message_id, "handler": "orders.test", "type": "test.happened",
                "correlation_id": uuid.uuid4(), "processed_at": timezone.now()}

    with CaptureQueriesContext(connections[alias]) as logged, transaction.atomic(using=alias):
        rows = [row(stored), row(new), row(repeated), row(repeated)]
        written = statements.insert_returning(InboxMessage, alias, rows, unless_exists=("message_id", "handler"))
    assert [q["sql"].split(" (")[0] for q in logged.captured_queries if "INSERT" in q["sql"]] == \
        ['INSERT INTO "orders_inboxmessage"']
    assert sorted(r.message_id for r in written) == sorted([new, repeated])
    for written_row in written:
        stored_row = InboxMessage.objects.using(alias).get(pk=written_row.pk)
        assert {f.attname: getattr(written_row, f.attname) for f in InboxMessage._meta.concrete_fields} == \
            {f.attname: getattr(stored_row, f.attname) for f in InboxMessage._meta.concrete_fields}  # types too
    assert InboxMessage.objects.using(alias).filter(message_id=repeated).count() == 1

    assert statements.insert_many(InboxMessage, alias, [row(uuid.uuid4()), row(uuid.uuid4()), row(new)],
                                  unless_exists=("message_id", "handler")) == 2
    assert statements.insert_returning(InboxMessage, alias, []) == []
    assert statements.insert_many(InboxMessage, alias, []) == 0


def test_on_sqlite_several_rows_go_in_one_statement():
    check_several_rows_in_one_statement("orders")


def test_on_postgresql_several_rows_go_in_one_statement(postgres_database):
    check_several_rows_in_one_statement(postgres_database)


def last_query_of(pid: int) -> str:
    with psycopg.connect(SERVER, autocommit=True) as other:
        return other.execute("SELECT query FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone()[0]


def as_a_new_request(alias: str) -> None:
    """What Django does for a kept connection as a request starts (close_old_connections): check it before use."""
    connections[alias].close_if_unusable_or_obsolete()
    assert not connections[alias].health_check_done


def test_the_health_check_sends_nothing_and_a_connection_the_server_ended_is_replaced(postgres_database):
    connection = connections[postgres_database]
    marker = f"SELECT 'before the check {uuid.uuid4()}'"
    with connection.cursor() as cursor:
        cursor.execute(marker)
    pid = connection.connection.info.backend_pid

    as_a_new_request(postgres_database)
    connection.close_if_health_check_failed()
    assert connection.health_check_done and connection.connection is not None
    assert last_query_of(pid) == marker  # Django's own check would have sent SELECT 1

    # The server ends the session: the next request's first statement runs on a new connection.
    with psycopg.connect(SERVER, autocommit=True) as other:
        assert other.execute("SELECT pg_terminate_backend(%s)", [pid]).fetchone()[0]
        deadline = time.monotonic() + 10
        while other.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone()[0]:
            assert time.monotonic() < deadline, "the backend did not end"
            time.sleep(0.05)
    as_a_new_request(postgres_database)
    assert an_inbox_row(postgres_database) == 1
    assert connection.connection.info.backend_pid != pid
