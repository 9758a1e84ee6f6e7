"""A fresh PostgreSQL database as a Django alias of its own, for the tests that need the real server's locking.

A test's fixture named ``postgres_database`` puts it in the cluster's pytest-xdist group (tests/conftest.py),
with the other PostgreSQL users.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator

import environ
from django.db import connections

from tests.e2e.shop import PostgresDatabases


@contextlib.contextmanager
def new_database(alias: str, models: list, **settings) -> Iterator[str]:
    """A new database holding ``models``' tables, as ``alias`` (its settings updated with ``settings``); closed
    and dropped after. Django must be set up; pytest's database access allowed (``fresh_database``)."""
    name = f"{alias}_{uuid.uuid4().hex[:8]}"
    config = {**environ.Env.db_url_config(f"postgres://postgres@127.0.0.1:5432/{name}"), **settings}
    # Filled in as Django fills the configured databases (it insists on seeing a default among them).
    connections.settings[alias] = connections.configure_settings(
        {"default": {**connections.settings["default"]}, alias: config})[alias]
    try:
        PostgresDatabases._psql(f"CREATE DATABASE {name}")
        with connections[alias].schema_editor() as editor:
            for model in models:
                editor.create_model(model)
        yield alias
        connections[alias].close()
        del connections[alias]  # the next user's database has another name
    finally:
        del connections.settings[alias]
        PostgresDatabases._psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@contextlib.contextmanager
def fresh_database(alias: str, django_db_blocker, models: list, **settings) -> Iterator[str]:
    """``new_database`` for a test, with database access allowed while it is in use."""
    with django_db_blocker.unblock(), new_database(alias, models, **settings):
        yield alias
