"""Schema-driven fuzzing of the whole API: whatever a client sends, the answer is never a 5xx,
and every 4xx carries the shop's error body with a message.

schemathesis reads /api/schema/ from the WSGI application in this process and
generates requests for every operation from it, valid and invalid ones. A new
endpoint is fuzzed as soon as it is in the schema.
"""

from __future__ import annotations

import json
from datetime import timedelta

import hypothesis.strategies as st
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from schemathesis import GenerationMode

from shopsite.wsgi import application

schema = schemathesis.openapi.from_wsgi("/api/schema/", application)

# Bounded: the two tests together stay well under a minute and a half.
FUZZ = settings(
    max_examples=25,
    deadline=timedelta(seconds=5),
    database=None,  # no .hypothesis folder in the work tree
    # The shop is built once per operation by a function-scoped fixture, on purpose.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

#: Ids of things that exist, by path parameter name; filled in by the fixture below.
KNOWN_IDS: dict[str, list] = {}


@schema.hook
def flatmap_path_parameters(context, path_parameters):
    """Besides the generated ids, aim at objects that exist: the caller's own and another customer's.

    Random integers and UUIDs almost never name a real order or card, and the
    code behind "found" is where most of the logic is.
    """
    if not path_parameters:
        return st.just(path_parameters)
    variants = [path_parameters]
    for owner in (0, 1):  # the caller's, then the other customer's
        variants.append({
            name: str(KNOWN_IDS[name][owner]) if name in KNOWN_IDS else value
            for name, value in path_parameters.items()
        })
    return st.sampled_from(variants)


@pytest.fixture
def shop(world):
    KNOWN_IDS.clear()
    KNOWN_IDS.update({name: [world.customer.owns[name], world.other.owns[name]] for name in world.customer.owns})
    yield world
    KNOWN_IDS.clear()


def is_staff_operation(operation) -> bool:
    """Staff operations are the ones that document refusing a signed-in customer."""
    return "403" in operation.definition.raw["responses"]


#: One test per operation, with an id of its own ("GET /api/orders/"), so pytest-xdist can tell them apart.
OPERATIONS = [result.ok() for result in schema.get_all_operations()]
STAFF_OPERATIONS = [operation for operation in OPERATIONS if is_staff_operation(operation)]


@pytest.fixture(autouse=True)
def _connections_kept_per_request():
    """What Django's test client does around a request: the WSGI handler's per-request connection check would
    close the connection holding the test's transaction (on PostgreSQL; SQLite's in-memory test database
    ignores a close), and every later query would fail."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


def cases(operation):
    """Valid and invalid requests for ``operation`` (the hook above aims some at existing objects)."""
    return st.one_of(*(operation.as_strategy(generation_mode=mode) for mode in GenerationMode))


def assert_well_behaved(response, case) -> None:
    where = f"{case.method} {case.formatted_path}\n{case.as_curl_command()}\n{response.status_code}: {response.text[:1500]}"
    assert response.status_code < 500, where
    if 400 <= response.status_code < 500:
        assert response.headers["content-type"][0].startswith("application/json"), where
        body = json.loads(response.text)
        assert isinstance(body, dict) and isinstance(body.get("message"), str) and body["message"], where
        assert isinstance(body.get("extra"), dict), where


@pytest.mark.django_db(databases="__all__")
@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda operation: operation.label)
def test_every_operation_as_a_customer(operation, shop):
    @FUZZ
    @given(case=cases(operation))
    def call(case):
        assert_well_behaved(case.call(headers=shop.customer.headers), case)

    call()


@pytest.mark.django_db(databases="__all__")
@pytest.mark.parametrize("operation", STAFF_OPERATIONS, ids=lambda operation: operation.label)
def test_every_staff_operation_as_staff(operation, shop):
    @FUZZ
    @given(case=cases(operation))
    def call(case):
        assert_well_behaved(case.call(headers=shop.staff.headers), case)

    call()
