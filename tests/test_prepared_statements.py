"""On PostgreSQL the services' statements are prepared (settings.PREPARE_THRESHOLD), unless told not to.

Each case starts a fresh interpreter with the orders service on the real
PostgreSQL server, runs one statement three times on its connection and asks
the server what that session holds prepared.
"""

import os

import pytest

from tests.fresh_python import answer

PROBE = """
import json
import django
django.setup()
from django.conf import settings
from django.db import connections
with connections["orders"].cursor() as cursor:
    for number in range(3):
        cursor.execute("SELECT %s::int + 1", [number])
    cursor.execute("SELECT count(*) FROM pg_prepared_statements")
    prepared = cursor.fetchone()[0]
print(json.dumps({"options": connections["orders"].settings_dict["OPTIONS"], "prepared": prepared,
                  "engine": connections["orders"].settings_dict["ENGINE"]}))
"""


def orders_on_postgres(**extra) -> dict:
    env = {name: value for name, value in os.environ.items() if name != "DATABASE_PREPARE_THRESHOLD"}
    env.update(DJANGO_SETTINGS_MODULE="shopsite.settings_test",
               ORDERS_DATABASE_URL="postgres://postgres@127.0.0.1:5432/postgres", **extra)
    return answer(PROBE, env)


def test_a_statement_run_twice_is_prepared_by_default():
    probe = orders_on_postgres()
    assert probe["options"] == {"server_side_binding": True, "prepare_threshold": 2}
    assert probe["prepared"] == 1
    assert probe["engine"] == "shopsite.db.postgresql"  # Django's, with a health check that sends nothing


@pytest.mark.parametrize("setting", ["off", "none"])
def test_prepared_statements_can_be_turned_off_for_a_pooler(setting):
    probe = orders_on_postgres(DATABASE_PREPARE_THRESHOLD=setting)
    assert probe["options"] == {} and probe["engine"] == "shopsite.db.postgresql"
    assert probe["prepared"] == 0


def test_a_higher_threshold_prepares_later():
    assert orders_on_postgres(DATABASE_PREPARE_THRESHOLD="5")["prepared"] == 0


MANY_SHAPES = """
import json
import django
django.setup()
from django.db import connections
# 150 statements of different shapes, each run three times (prepared on the third, at the threshold of 2): with
# psycopg's default of 100 kept, the first fifty would have been deallocated by the end.
with connections["orders"].cursor() as cursor:
    for shape in range(150):
        for _ in range(3):
            cursor.execute("SELECT " + ", ".join(["%s::int"] * (shape + 1)), list(range(shape + 1)))
    cursor.execute("SELECT count(*) FROM pg_prepared_statements")
    prepared = cursor.fetchone()[0]
print(json.dumps({"prepared": prepared, "kept": connections["orders"].connection.prepared_max}))
"""


def test_a_connection_keeps_more_statements_prepared_than_psycopgs_default():
    env = {name: value for name, value in os.environ.items() if name != "DATABASE_PREPARE_THRESHOLD"}
    env.update(DJANGO_SETTINGS_MODULE="shopsite.settings_test",
               ORDERS_DATABASE_URL="postgres://postgres@127.0.0.1:5432/postgres")
    probe = answer(MANY_SHAPES, env)
    assert probe["prepared"] == 150  # none deallocated (with psycopg's default: 100)
    assert probe["kept"] > 150

