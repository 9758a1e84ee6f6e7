"""Each service's data migration moves its old inbox rows from import paths to handler keys, and back."""

import uuid
from importlib import import_module

import pytest
from django.conf import settings
from django.db import connections
from django.db.migrations.executor import MigrationExecutor

#: A handler removed before keys existed: its rows keep their name.
GONE = "handlers.a_handler_removed_long_ago"


def migrated(service: str, target: tuple[str, str]):
    """The service's database migrated to ``target``; the app registry of that state."""
    executor = MigrationExecutor(connections[settings.SERVICE_DATABASES[service]])
    executor.migrate([target])
    return executor.loader.project_state(target).apps


def handlers_by_message(inbox, alias: str) -> dict[uuid.UUID, list[str]]:
    rows = {}
    for message_id, handler in inbox.objects.using(alias).order_by("handler").values_list("message_id", "handler"):
        rows.setdefault(message_id, []).append(handler)
    return rows


@pytest.mark.parametrize("service", [
    pytest.param(service, marks=pytest.mark.django_db(databases=[settings.SERVICE_DATABASES[service]],
                                                       transaction=True))
    for service in settings.SERVICES
])
def test_old_inbox_rows_take_their_handlers_keys(service):
    alias = settings.SERVICE_DATABASES[service]
    loader = MigrationExecutor(connections[alias]).loader
    [migration] = [key for key in loader.disk_migrations
                   if key[0] == service and key[1].endswith("_inbox_handler_keys")]
    [before] = [parent.key for parent in loader.graph.node_map[migration].parents if parent.key[0] == service]
    renames = import_module(f"{service}.migrations.{migration[1]}").INBOX_KEYS
    old_name, key = next(iter(renames.items()))
    try:
        inbox = migrated(service, before).get_model(service, "InboxMessage")
        by_old_name = {uuid.uuid4(): old for old in renames}
        handled_twice = uuid.uuid4()  # by the old code, then by the new code before the migration ran
        rows = [(message_id, old) for message_id, old in by_old_name.items()]
        rows += [(uuid.uuid4(), f"{service}.{GONE}"), (handled_twice, old_name), (handled_twice, key)]
        inbox.objects.using(alias).bulk_create(
            inbox(message_id=message_id, handler=handler, type="test.message", correlation_id=uuid.uuid4())
            for message_id, handler in rows
        )

        inbox = migrated(service, migration).get_model(service, "InboxMessage")
        after = handlers_by_message(inbox, alias)
        assert {message_id: after[message_id] for message_id in by_old_name} == {
            message_id: [renames[old]] for message_id, old in by_old_name.items()}
        assert after[handled_twice] == [key]
        assert [f"{service}.{GONE}"] in after.values()

        inbox = migrated(service, before).get_model(service, "InboxMessage")
        assert {message_id: handlers_by_message(inbox, alias)[message_id] for message_id in by_old_name} == {
            message_id: [old] for message_id, old in by_old_name.items()}
    finally:
        MigrationExecutor(connections[alias]).migrate(loader.graph.leaf_nodes(service))
