"""The message catalogue as an AsyncAPI 3.0 document, generated from the code that runs the bus.

Every fact in it comes from where the bus itself takes it, so the document
cannot say something the code does not do: the payload schemas from the
contracts (pydantic), the senders from each service's outbox (``PUBLISHES``,
which ``OutboxMessage.record`` enforces), the receivers and their queues'
bindings from each service's handler mapping (the keys of ``HANDLERS``), the
names on the broker from ``names.py``. ``manage.py asyncapi`` writes it to
docs/asyncapi.yaml; the output is stable (nothing depends on the environment,
mappings keep a fixed order), so a stale committed file is a plain diff.

Names on the broker start with a prefix each installation chooses
(``BUS_PREFIX``), so the document writes it as ``{prefix}``; the retry
delays and the queue type are settings too, and are described, not listed.
"""

from __future__ import annotations

import inspect
import tomllib
from typing import Any

import yaml
from django.apps import apps
from django.conf import settings

from shopsite.contracts import MESSAGE_TYPES, Message

from . import deployment
from .connection import subscriptions
from .consumer import ATTEMPT_HEADER, ERROR_HEADER
from .envelope import ENVELOPE_KEYS
from .names import Names

ASYNCAPI_VERSION = "3.0.0"
AMQP_BINDING_VERSION = "0.3.0"
#: The prefix as the document writes it: a channel parameter, filled in by each installation.
PREFIX = "{prefix}"
NAMES = Names(PREFIX)
SCHEMAS = "#/components/schemas/"

HEADER = "# The shop's message catalogue (AsyncAPI 3.0), generated from the code: do not edit it.\n" \
         "# Regenerate with `python manage.py asyncapi`; see docs/asyncapi.md.\n"

#: What each field of the envelope (envelope.py) means; every field must be described here.
ENVELOPE_FIELDS: dict[str, dict[str, Any]] = {
    "id": {"type": "string", "format": "uuid",
           "description": "The message's own id, unique per message; also the AMQP message_id. Consumers skip an "
                          "id they have handled (at-least-once delivery: duplicates are expected)."},
    "type": {"type": "string", "description": "The message type, which is also the routing key."},
    "version": {"type": "integer", "description": "The payload's contract version."},
    "occurred_at": {"type": "string", "format": "date-time",
                    "description": "When the producer recorded the message (ISO 8601, with its offset)."},
    "producer": {"type": "string", "description": "The service that recorded the message."},
    "correlation_id": {"type": "string", "format": "uuid",
                       "description": "The checkout or request that started the flow; every message it caused "
                                      "carries it. Also the AMQP correlation_id."},
    "causation_id": {"anyOf": [{"type": "string", "format": "uuid"}, {"type": "null"}],
                     "description": "The id of the message whose handler recorded this one; null when a request "
                                    "or a command recorded it."},
    "payload": {"description": "The message itself, as its contract describes it."},
}

#: The AMQP properties the publisher sets (publisher.py), written into each message's description.
AMQP_PROPERTIES = (
    "AMQP properties set by the publisher: `message_id` = the envelope's `id`, `type` = its `type`, "
    "`correlation_id` = its `correlation_id`, `app_id` = the producing service, `content_type` = "
    "`application/json`, `delivery_mode` = 2 (persistent), `timestamp` = when the message was recorded."
)


def document() -> dict[str, Any]:
    """The whole catalogue, as plain data in a fixed order."""
    schemas: dict[str, Any] = {"Headers": _headers_schema()}
    messages = {_message_key(kind): _message(kind, schemas) for kind in _message_types()}
    senders, receivers = _senders(), _receivers()
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "info": _info(),
        "defaultContentType": "application/json",
        "servers": _servers(),
        "channels": {**_routing_key_channels(senders, receivers), **_queue_channels(receivers)},
        "operations": _operations(senders, receivers),
        "components": {"schemas": schemas, "messages": messages},
    }


def render() -> str:
    """The document as the YAML committed in docs/asyncapi.yaml."""
    return HEADER + yaml.dump(document(), Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=110)


class _Dumper(yaml.SafeDumper):
    """Writes repeated objects out in full: anchors and aliases would make the file hard to read."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    # Paragraphs stay paragraphs: a literal block instead of a quoted string with doubled line breaks.
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|" if "\n" in value else None)


_Dumper.add_representer(str, _text)


# --- who sends and who receives --------------------------------------------


def _message_types() -> list[type[Message]]:
    return [MESSAGE_TYPES[key] for key in sorted(MESSAGE_TYPES)]


def _senders() -> dict[str, list[type[Message]]]:
    """service -> the message types its outbox may record, by routing key."""
    return {service: sorted(apps.get_model(service, "OutboxMessage").PUBLISHES, key=_type)
            for service in settings.SERVICES}


def _receivers() -> dict[str, list[type[Message]]]:
    """service -> the message types its queue is bound to (its handler mapping's keys), by routing key."""
    return {service: sorted(subscriptions(service), key=_type) for service in settings.SERVICES}


def _type(kind: type[Message]) -> str:
    return kind.TYPE


def _services_of(kind: type[Message], by_service: dict[str, list[type[Message]]]) -> list[str]:
    return [service for service, kinds in by_service.items() if kind in kinds]


# --- document parts ----------------------------------------------------------


def _info() -> dict[str, Any]:
    with open(settings.BASE_DIR / "pyproject.toml", "rb") as project:
        version = tomllib.load(project)["project"]["version"]
    return {
        "title": "Shop message bus",
        "version": version,
        "description": (
            "Every message the shop's six services exchange. All of them travel on one durable topic exchange, "
            f"`{NAMES.exchange}`, with the message type as the routing key; each service consumes from one "
            f"durable queue of its own (`{NAMES.queue('<service>')}`), bound to the types its handlers take.\n\n"
            "Names on the broker start with `{prefix}`: the installation's `BUS_PREFIX` (by default its "
            "`BUS_DEPLOYMENT`), so that two shops on one broker never share a queue.\n\n"
            "Each message is a JSON envelope (`id`, `type`, `version`, `occurred_at`, `producer`, "
            "`correlation_id`, `causation_id`, `payload`); the payload is the message type's contract at the "
            "version the message names. Consumers also read the older versions listed in "
            "`x-shop-reads-versions`, upcast to the current one before validation. A message that fails its "
            "contract is never handled: it is parked in the consumer's dead-letter queue with the reason.\n\n"
            "Generated from the code by `python manage.py asyncapi` (see docs/asyncapi.md)."
        ),
    }


def _servers() -> dict[str, Any]:
    return {
        "default": {
            "host": "127.0.0.1:5672",
            "protocol": "amqp",
            "protocolVersion": "0.9.1",
            "description": (
                "The broker a developer's shop uses by default. Each installation sets its own with `BUS_URL` "
                "(one AMQP URL, or several separated by commas for a cluster's nodes) and its names' prefix with "
                "`BUS_PREFIX`; every message carries the installation in its `x-shop-deployment` header."
            ),
        }
    }


def _exchange() -> dict[str, Any]:
    return {"name": NAMES.exchange, "type": "topic", "durable": True, "autoDelete": False}


def _routing_key_channels(senders, receivers) -> dict[str, Any]:
    channels = {}
    for kind in _message_types():
        sent_by = ", ".join(_services_of(kind, senders)) or "nobody"
        read_by = ", ".join(_services_of(kind, receivers)) or "nobody"
        channels[kind.TYPE] = {
            "address": kind.TYPE,
            "title": kind.TYPE,
            "description": f"`{kind.TYPE}` on the exchange `{NAMES.exchange}`. Sent by: {sent_by}. "
                           f"Routed to the queues of: {read_by}.",
            "messages": {_message_key(kind): {"$ref": f"#/components/messages/{_message_key(kind)}"}},
            "bindings": {"amqp": {"is": "routingKey", "exchange": _exchange(),
                                  "bindingVersion": AMQP_BINDING_VERSION}},
        }
    return channels


def _queue(name: str) -> dict[str, Any]:
    return {"is": "queue",
            "queue": {"name": name, "durable": True, "exclusive": False, "autoDelete": False},
            "bindingVersion": AMQP_BINDING_VERSION}


def _prefix_parameter() -> dict[str, Any]:
    return {"description": "The installation's BUS_PREFIX (by default its BUS_DEPLOYMENT)."}


def retry_queue_pattern(service: str) -> str:
    """``names.py``'s retry queue name with its delay left open (``{delay}``, in milliseconds)."""
    return f"{NAMES.queue(service)}.retry.{{delay}}ms"


def _queue_channels(receivers) -> dict[str, Any]:
    channels = {}
    for service, kinds in receivers.items():
        queue, dead = NAMES.queue(service), NAMES.dead_letter_queue(service)
        messages = {_message_key(kind): {"$ref": f"#/components/messages/{_message_key(kind)}"} for kind in kinds}
        channels[f"queue.{service}"] = {
            "address": queue,
            "title": f"The queue of {service}",
            "description": (
                f"The {service} service's durable queue: every copy of `manage.py consume_{service}` competes "
                f"for its deliveries. Bound to `{NAMES.exchange}` with the routing keys in `x-shop-bindings`. "
                f"Its type is `BUS_QUEUE_TYPE` (classic, or quorum for a cluster, which then parks a message "
                f"delivered `BUS_DELIVERY_LIMIT` times in `{dead}`)."
            ),
            "parameters": {"prefix": _prefix_parameter()},
            "messages": messages,
            "bindings": {"amqp": _queue(queue)},
            "x-shop-bindings": [{"exchange": NAMES.exchange, "routingKey": kind.TYPE} for kind in kinds],
        }
        channels[f"queue.{service}.retry"] = {
            "address": retry_queue_pattern(service),
            "title": f"The retry queues of {service}",
            "description": (
                f"One queue per delay of `BUS_RETRY_DELAYS` (in milliseconds in its name). A delivery whose "
                f"handler failed waits here with headers `{ATTEMPT_HEADER}` and `{ERROR_HEADER}`; when its delay "
                f"is over the broker dead-letters it back to `{queue}` only, not to the other subscribers."
            ),
            "parameters": {"prefix": _prefix_parameter(),
                           "delay": {"description": "The retry delay in milliseconds, from BUS_RETRY_DELAYS."}},
            "messages": messages,
            "bindings": {"amqp": _queue(retry_queue_pattern(service))},
        }
        channels[f"queue.{service}.dead"] = {
            "address": dead,
            "title": f"The dead letters of {service}",
            "description": (
                f"Deliveries {service} could never handle: invalid ones at once, failing ones after the last "
                "retry, with the reason in their headers. `manage.py dead_letters list|replay` and the admin's "
                "bus console show and replay them."
            ),
            "parameters": {"prefix": _prefix_parameter()},
            "messages": messages,
            "bindings": {"amqp": _queue(dead)},
        }
    return channels


def _operations(senders, receivers) -> dict[str, Any]:
    operations = {}
    for service in settings.SERVICES:
        for kind in senders[service]:
            key = _message_key(kind)
            operations[f"{service}.send.{kind.TYPE}"] = {
                "action": "send",
                "title": f"{service} sends {kind.TYPE}",
                "summary": f"Recorded in {service}'s outbox with the change that caused it; published with "
                           "publisher confirms once that transaction commits.",
                "channel": {"$ref": f"#/channels/{kind.TYPE}"},
                "messages": [{"$ref": f"#/channels/{kind.TYPE}/messages/{key}"}],
                "tags": [{"name": service}],
                "bindings": {"amqp": {"deliveryMode": 2, "mandatory": True, "timestamp": True,
                                      "bindingVersion": AMQP_BINDING_VERSION}},
            }
        for kind in receivers[service]:
            key = _message_key(kind)
            operations[f"{service}.receive.{kind.TYPE}"] = {
                "action": "receive",
                "title": f"{service} receives {kind.TYPE}",
                "summary": f"Taken from {service}'s queue; handled once per message id (the inbox skips a "
                           "redelivery) and acknowledged after the handler's transaction commits.",
                "channel": {"$ref": f"#/channels/queue.{service}"},
                "messages": [{"$ref": f"#/channels/queue.{service}/messages/{key}"}],
                "tags": [{"name": service}],
                "bindings": {"amqp": {"ack": True, "bindingVersion": AMQP_BINDING_VERSION}},
            }
    return operations


# --- messages and schemas ----------------------------------------------------


def _message_key(kind: type[Message]) -> str:
    return f"{kind.TYPE}.v{kind.VERSION}"


def _schema_name(kind: type[Message]) -> str:
    return f"{kind.__name__}.v{kind.VERSION}"


def _message(kind: type[Message], schemas: dict[str, Any]) -> dict[str, Any]:
    schemas[_schema_name(kind)] = _payload_schema(kind, schemas)
    older = sorted(kind.UPCASTERS)
    described = [_own_doc(kind) or f"The `{kind.TYPE}` message."]
    for version in older:
        how = inspect.getdoc(kind.UPCASTERS[version]) or ""
        described.append(f"Version {version} is still read, upcast to version {version + 1} on arrival. {how}".strip())
    described.append(AMQP_PROPERTIES)
    return {
        "name": _message_key(kind),
        "title": f"{kind.TYPE} version {kind.VERSION}",
        "summary": f"{kind.__name__}: routing key `{kind.TYPE}`, version {kind.VERSION}.",
        "description": "\n\n".join(described),
        "contentType": "application/json",
        "headers": {"$ref": f"{SCHEMAS}Headers"},
        "correlationId": {"description": "The flow this message belongs to.",
                          "location": "$message.payload#/correlation_id"},
        "payload": _envelope_schema(kind),
        "bindings": {"amqp": {"messageType": kind.TYPE, "bindingVersion": AMQP_BINDING_VERSION}},
        "x-shop-version": kind.VERSION,
        "x-shop-reads-versions": sorted({*older, kind.VERSION}),
    }


def _own_doc(kind: type[Message]) -> str | None:
    """The class's own docstring: a contract without one must not show its base class's."""
    doc = kind.__dict__.get("__doc__")
    return inspect.cleandoc(doc) if doc else None


def _envelope_schema(kind: type[Message]) -> dict[str, Any]:
    if set(ENVELOPE_FIELDS) != ENVELOPE_KEYS:
        raise ValueError(f"describe every envelope field in ENVELOPE_FIELDS: {sorted(ENVELOPE_KEYS)}")
    properties = {name: dict(schema) for name, schema in ENVELOPE_FIELDS.items()}
    properties["type"]["const"] = kind.TYPE
    properties["version"]["const"] = kind.VERSION
    # Beside a $ref a draft-07 schema ignores every other keyword: the description would be lost.
    properties["payload"]["allOf"] = [{"$ref": f"{SCHEMAS}{_schema_name(kind)}"}]
    return {"type": "object", "required": list(ENVELOPE_FIELDS), "additionalProperties": False,
            "properties": properties}


def _payload_schema(kind: type[Message], schemas: dict[str, Any]) -> dict[str, Any]:
    """The contract's JSON Schema (what a consumer accepts), its nested records moved into ``schemas``."""
    schema = kind.model_json_schema(ref_template=SCHEMAS + "{model}", mode="validation")
    for name, nested in schema.pop("$defs", {}).items():
        if schemas.setdefault(name, nested) != nested:
            raise ValueError(f"two contracts define {name} differently: give one of the records another name")
    return schema


def _headers_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "description": "The AMQP headers of a message.",
        "required": [deployment.HEADER],
        "properties": {
            deployment.HEADER: {"type": "string", "description": (
                "The installation that published the message (BUS_DEPLOYMENT). A consumer parks a message "
                "of another installation, or one without this header, in its dead-letter queue unhandled.")},
            ATTEMPT_HEADER: {"type": "integer", "minimum": 1,
                             "description": "Set by a consumer on a failed delivery: how many times it failed."},
            ERROR_HEADER: {"type": "string",
                           "description": "Set by a consumer on a failed or parked delivery: why it failed."},
        },
    }
