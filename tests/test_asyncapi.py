"""docs/asyncapi.yaml: what the code says, valid AsyncAPI 3.0, and every reference in it found.

The AsyncAPI 3.0.0 JSON Schema is the official one, from the npm package
``@asyncapi/specs``: fetched with npm into the user's cache on first use, never
committed. Without npm (or the registry) the validation is skipped on a
developer's machine, and fails in CI.
"""

import copy
import difflib
import json
import uuid
from decimal import Decimal
from pathlib import Path

import jsonschema
import pytest
import yaml
from django.apps import apps
from django.conf import settings
from django.core.management import CommandError, call_command

from shopsite import contracts
from shopsite.bus import asyncapi
from shopsite.bus.connection import subscriptions
from shopsite.bus.envelope import Envelope
from shopsite.bus.names import Names
from shopsite.testing import an_address
from tests.system_tools import npm_package

CATALOGUE = settings.BASE_DIR / "docs" / "asyncapi.yaml"
SPECS_PACKAGE, SPECS_VERSION = "@asyncapi/specs", "6.11.1"


@pytest.fixture(scope="module")
def document() -> dict:
    return yaml.safe_load(asyncapi.render())


@pytest.fixture(scope="module")
def spec_validator() -> jsonschema.Draft7Validator:
    schema = json.loads(_official_schema().read_text())
    return jsonschema.Draft7Validator(schema)


def _official_schema() -> Path:
    """schemas/3.0.0.json of @asyncapi/specs, installed once per version into the user's cache."""
    folder = npm_package(SPECS_PACKAGE, SPECS_VERSION, what="The official AsyncAPI 3.0 schema")
    return folder / "node_modules" / "@asyncapi" / "specs" / "schemas" / "3.0.0.json"


def _errors(validator: jsonschema.Draft7Validator, document: dict) -> list[str]:
    return [f"{'/'.join(map(str, error.absolute_path))}: {error.message[:300]}"
            for error in validator.iter_errors(document)]


def _refs(node, found=None) -> list[str]:
    found = [] if found is None else found
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            found.append(node["$ref"])
        for value in node.values():
            _refs(value, found)
    elif isinstance(node, list):
        for value in node:
            _refs(value, found)
    return found


def _resolve(document: dict, ref: str):
    assert ref.startswith("#/"), f"{ref} points outside the document"
    node = document
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


# --- the committed file --------------------------------------------------------


def test_the_committed_catalogue_is_what_the_code_says():
    generated = asyncapi.render()
    committed = CATALOGUE.read_text(encoding="utf-8") if CATALOGUE.exists() else ""
    if committed != generated:
        diff = "".join(list(difflib.unified_diff(committed.splitlines(True), generated.splitlines(True),
                                                 "docs/asyncapi.yaml (committed)", "generated from the code"))[:60])
        pytest.fail("docs/asyncapi.yaml is stale. Regenerate it with `python manage.py asyncapi` "
                    f"(`DJANGO_DEBUG=true BUS_DEPLOYMENT=docs python manage.py asyncapi` without a .env) "
                    f"and commit it.\n{diff}")


def test_the_check_command_fails_on_a_stale_file_and_passes_on_a_fresh_one(tmp_path):
    output = tmp_path / "asyncapi.yaml"
    output.write_text(asyncapi.render().replace("Shop message bus", "Someone's edit"))
    with pytest.raises(CommandError, match="manage.py asyncapi"):
        call_command("asyncapi", "--check", "--output", str(output))

    call_command("asyncapi", "--output", str(output))
    call_command("asyncapi", "--check", "--output", str(output))
    assert output.read_text() == asyncapi.render()


# --- valid AsyncAPI 3.0 -------------------------------------------------------------


def test_the_catalogue_is_valid_asyncapi_3(document, spec_validator):
    assert document["asyncapi"] == "3.0.0"
    assert _errors(spec_validator, document) == []


@pytest.mark.parametrize("breakage", [
    "an operation with a 2.x action",
    "a channel binding that is neither a queue nor a routing key",
    "a payload schema whose type is not a type",
    "no info",
    "a message with an unknown field",
])
def test_a_broken_catalogue_is_refused(document, spec_validator, breakage):
    broken = copy.deepcopy(document)
    if breakage == "an operation with a 2.x action":
        broken["operations"]["orders.send.order.placed"]["action"] = "publish"
    elif breakage == "a channel binding that is neither a queue nor a routing key":
        broken["channels"]["order.placed"]["bindings"]["amqp"]["is"] = "exchange"
    elif breakage == "a payload schema whose type is not a type":
        broken["components"]["schemas"]["Address"]["type"] = "postal"
    elif breakage == "no info":
        del broken["info"]
    else:
        broken["components"]["messages"]["order.placed.v1"]["routingKey"] = "order.placed"
    assert _errors(spec_validator, broken) != []


def test_every_reference_in_the_catalogue_is_found(document):
    refs = _refs(document)
    assert len(refs) > 100
    for ref in refs:
        _resolve(document, ref)
    # An operation's messages are messages of its own channel.
    for name, operation in document["operations"].items():
        channel = operation["channel"]["$ref"]
        assert all(m["$ref"].startswith(f"{channel}/messages/") for m in operation["messages"]), name


def test_a_reference_to_nothing_is_noticed(document):
    with pytest.raises(KeyError):
        _resolve(document, "#/components/schemas/NoSuchRecord")


# --- what it says -------------------------------------------------------------------


def test_senders_and_receivers_are_each_services_outbox_and_handlers(document):
    operations = document["operations"]
    for service in settings.SERVICES:
        sends = {o["channel"]["$ref"].removeprefix("#/channels/") for key, o in operations.items()
                 if key.startswith(f"{service}.send.")}
        receives = {key.removeprefix(f"{service}.receive.") for key in operations
                    if key.startswith(f"{service}.receive.")}
        assert sends == {kind.TYPE for kind in apps.get_model(service, "OutboxMessage").PUBLISHES}
        assert receives == {kind.TYPE for kind in subscriptions(service)}
        bindings = document["channels"][f"queue.{service}"]["x-shop-bindings"]
        assert {b["routingKey"] for b in bindings} == receives


def test_each_message_names_its_version_and_the_older_versions_still_read(document):
    messages = document["components"]["messages"]
    assert set(messages) == {f"{kind.TYPE}.v{kind.VERSION}" for kind in contracts.MESSAGE_TYPES.values()}
    checked_out = messages["cart.checked_out.v2"]
    assert checked_out["x-shop-reads-versions"] == [1, 2]
    assert "Version 1 is still read" in checked_out["description"]
    assert checked_out["payload"]["properties"]["version"]["const"] == 2
    assert messages["order.placed.v1"]["x-shop-reads-versions"] == [1]


def test_the_queue_names_are_the_ones_the_bus_declares(document):
    names = Names("shop-1")
    channels = document["channels"]
    fill = {"{prefix}": "shop-1", "{delay}": "5000"}

    def address(key):
        value = channels[key]["address"]
        for placeholder, actual in fill.items():
            value = value.replace(placeholder, actual)
        return value

    assert address("queue.orders") == names.queue("orders")
    assert address("queue.orders.retry") == names.retry_queue("orders", 5.0)
    assert address("queue.orders.dead") == names.dead_letter_queue("orders")
    exchange = channels["order.placed"]["bindings"]["amqp"]["exchange"]["name"]
    assert exchange.replace("{prefix}", "shop-1") == names.exchange


@pytest.mark.parametrize("message", [
    contracts.OrderPlaced(order_id=uuid.uuid4(), user_id=7, lines=[contracts.ReservedLine(product_id=1, quantity=2)],
                          total=Decimal("12.50")),
    contracts.CartCheckedOut(
        checkout_id=uuid.uuid4(), order_id=uuid.uuid4(), user_id=7, total=Decimal("6.25"),
        lines=[contracts.CheckoutLine(product_id=1, sku="MUG", name="Mug", unit_price=Decimal("6.25"), quantity=1,
                                      thumbnail_url="/media/mug-thumb.jpg")],
        shipping_address=an_address(), payment_method_id=uuid.uuid4(),
    ),
], ids=lambda message: message.TYPE)
def test_a_message_as_the_shop_sends_it_matches_its_schema_and_a_mangled_one_does_not(document, message):
    payload_schema = f"#/components/messages/{message.TYPE}.v{message.VERSION}/payload"
    validator = jsonschema.Draft7Validator({**document, "$ref": payload_schema})
    body = json.loads(Envelope.wrap(message, producer="test", correlation_id=uuid.uuid4()).to_json())
    assert list(validator.iter_errors(body)) == []

    assert list(validator.iter_errors({**body, "version": message.VERSION + 1})) != []
    assert list(validator.iter_errors({**body, "payload": {**body["payload"], "user_id": "seven"}})) != []
