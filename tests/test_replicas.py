"""The shared version-guarded upsert (shopsite/replicas.py), on SQLite and, raced by two connections, PostgreSQL."""

import threading
import time

import pytest
from django.db import connections, transaction

from notifications.models import Recipient
from shopsite.replicas import replica_update, replica_upsert
from tests.postgres import fresh_database

DB = "notifications"


def apply(version: int, email: str, *, using: str = DB) -> bool:
    return replica_upsert(Recipient, using=using, key={"user_id": 7}, version=version,
                          values={"email": email, "name": "Ann"})


def stored(using: str = DB) -> tuple[str, int]:
    recipient = Recipient.objects.using(using).get(pk=7)
    return recipient.email, recipient.version


@pytest.mark.django_db(databases=[DB])
class TestOnSQLite:
    def test_a_new_row_is_inserted_with_the_defaults_of_the_fields_not_given(self):
        assert apply(3, "ann@example.com")

        recipient = Recipient.objects.get(pk=7)
        assert (recipient.email, recipient.version, recipient.is_active) == ("ann@example.com", 3, True)
        assert recipient.updated_at is not None

    @pytest.mark.parametrize("version, applied, expected", [
        (4, True, ("new@example.com", 4)),
        (3, False, ("ann@example.com", 3)),  # repeated
        (2, False, ("ann@example.com", 3)),  # late
        (0, False, ("ann@example.com", 3)),  # from before versions
    ])
    def test_only_a_newer_version_updates(self, version, applied, expected):
        apply(3, "ann@example.com")

        assert apply(version, "new@example.com") is applied

        assert stored() == expected

    def test_unversioned_messages_apply_in_arrival_order_among_themselves(self):
        assert apply(0, "ann@example.com")
        assert apply(0, "new@example.com")

        assert stored() == ("new@example.com", 0)

    def test_an_update_keeps_the_fields_it_was_not_given_and_created_with_only_fills_a_new_row(self):
        replica_upsert(Recipient, using=DB, key={"user_id": 7}, version=1, values={"email": "ann@example.com"},
                       created_with={"name": "Ann", "is_active": False})
        replica_upsert(Recipient, using=DB, key={"user_id": 7}, version=2, values={"email": "new@example.com"},
                       created_with={"name": "Someone else", "is_active": True})

        recipient = Recipient.objects.get(pk=7)
        assert (recipient.email, recipient.name, recipient.is_active) == ("new@example.com", "Ann", False)

    def test_the_update_alone_never_creates_and_keeps_the_same_guard(self):
        assert not replica_update(Recipient, using=DB, key={"user_id": 7}, version=5, values={"name": "Ann"})
        assert not Recipient.objects.exists()
        apply(3, "ann@example.com")

        assert not replica_update(Recipient, using=DB, key={"user_id": 7}, version=3, values={"name": "Late"})
        assert replica_update(Recipient, using=DB, key={"user_id": 7}, version=4, values={"name": "Ann B"})

        assert (Recipient.objects.get(pk=7).name, stored()[1]) == ("Ann B", 4)


# --- two consumers at once, on PostgreSQL --------------------------------------


@pytest.fixture
def postgres_database(django_db_blocker):
    """A fresh PostgreSQL database holding the Recipient table, as the alias ``replicas_pg``; dropped after."""
    with fresh_database("replicas_pg", django_db_blocker, [Recipient]) as alias:
        yield alias


def wait_for_a_blocked_writer(alias: str) -> None:
    """Until a session of the test's database waits on a lock: the second writer is inside its upsert."""
    deadline = time.monotonic() + 20
    with connections[alias].cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute("SELECT count(*) FROM pg_stat_activity "
                           "WHERE datname = current_database() AND wait_event_type = 'Lock'")
            if cursor.fetchone()[0]:
                return
            time.sleep(0.01)
    raise AssertionError("the second writer never waited for the first")


def race(alias: str, *, first: tuple[int, str], second: tuple[int, str]) -> bool:
    """``first`` inserts the row and holds its transaction open until ``second``'s upsert of the same key is
    waiting on it; then it commits. Whether ``second`` was applied."""
    inserted, blocked = threading.Event(), threading.Event()
    outcome: dict[str, object] = {}

    def first_consumer():
        try:
            with transaction.atomic(using=alias):
                outcome["first"] = apply(*first, using=alias)
                inserted.set()
                assert blocked.wait(30)
        except BaseException as exc:
            outcome["first"] = exc
            inserted.set()
        finally:
            connections[alias].close()

    def second_consumer():
        try:
            assert inserted.wait(30)
            with transaction.atomic(using=alias):
                outcome["second"] = apply(*second, using=alias)
        except BaseException as exc:
            outcome["second"] = exc
        finally:
            connections[alias].close()

    threads = [threading.Thread(target=first_consumer), threading.Thread(target=second_consumer)]
    for thread in threads:
        thread.start()
    try:
        assert inserted.wait(30)
        wait_for_a_blocked_writer(alias)
    finally:
        blocked.set()
        for thread in threads:
            thread.join(30)
    assert outcome["first"] is True, outcome
    assert isinstance(outcome["second"], bool), outcome  # not an IntegrityError: the conflict became an update
    return outcome["second"]


@pytest.mark.parametrize("first, second, applied, expected", [
    ((2, "newer@example.com"), (1, "older@example.com"), False, ("newer@example.com", 2)),
    ((1, "older@example.com"), (2, "newer@example.com"), True, ("newer@example.com", 2)),
    ((2, "newer@example.com"), (2, "newer@example.com"), False, ("newer@example.com", 2)),
], ids=["older-waits-for-newer", "newer-waits-for-older", "the-same-twice"])
def test_two_consumers_inserting_the_same_row_at_once_keep_the_newest(postgres_database, first, second, applied,
                                                                      expected):
    assert race(postgres_database, first=first, second=second) is applied

    assert stored(using=postgres_database) == expected
