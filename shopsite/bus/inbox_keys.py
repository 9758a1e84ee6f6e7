"""The data migration that moves a service's inbox rows from one handler name to another.

Each service's migration that gave its handlers keys (``handlers.py``)
writes out its own renames, from the import paths the inbox used to store;
this is only the shared way of applying them, kept in one place because six
services run it.
"""

from __future__ import annotations

from django.db import migrations


def rename_inbox_handlers(app_label: str, renames: dict[str, str]) -> migrations.RunPython:
    """A reversible data migration: ``app_label``'s inbox rows named by a key of ``renames`` take its value.

    It runs on the service's own database only (the router allows no other
    for its app). A row whose message the new name has already handled (a
    consumer of the new code ran before the migration) is dropped, not
    renamed, since the inbox holds a (message, handler) once.
    """
    if len(set(renames.values())) < len(renames):
        raise ValueError("two old names renamed to one: the migration could not be reversed")

    def rename(apps, schema_editor, pairs) -> None:
        inbox = apps.get_model(app_label, "InboxMessage")
        rows = inbox.objects.using(schema_editor.connection.alias)
        for old, new in pairs:
            rows.filter(handler=old, message_id__in=rows.filter(handler=new).values("message_id")).delete()
            rows.filter(handler=old).update(handler=new)

    def forwards(apps, schema_editor) -> None:
        rename(apps, schema_editor, renames.items())

    def backwards(apps, schema_editor) -> None:
        rename(apps, schema_editor, [(new, old) for old, new in renames.items()])

    return migrations.RunPython(forwards, backwards)
