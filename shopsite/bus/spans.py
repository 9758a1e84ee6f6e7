"""The bus's spans: handling a message continues the trace of whatever recorded it.

An outbox row keeps the ``traceparent`` of the span current when it was
recorded (a web request, or the handling of another message). Whoever
publishes the row, however late (the relay's sweep), sends that traceparent
in the message's AMQP headers, and the consumer makes the handling of each
delivery a CONSUMER span whose parent it is. So one checkout is one trace
through every service, and a log line written inside a handler carries the
trace id of the message it handles.

A batch (several deliveries in one transaction) does not
merge their traces: each message's handlers still run in a span of its own,
in its own trace. The transaction itself (begin, any savepoints, the commit)
is a span too, the root of a trace of its own with a link to where each
message came from; each message's span links back to it. A commit shared by
several traces can be the child of none of them, and the link is how a
message's trace finds out when its work became durable.

All of it is skipped, at the cost of one check, when tracing is off.
"""

from __future__ import annotations

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import SpanKind

from shopsite import tracing

#: The W3C trace context header, under the name the standard gives it.
HEADER = "traceparent"


def with_traceparent(headers: dict, traceparent: str | None) -> dict:
    """The AMQP ``headers`` of a row recorded under ``traceparent`` (None: recorded with tracing off)."""
    return {**headers, HEADER: traceparent} if traceparent else headers


def _origin(delivery) -> Context:
    value = (delivery.properties.headers or {}).get(HEADER)
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    # A message from an untraced producer starts a trace of its own, never one under the batch.
    return tracing.continuing(value if isinstance(value, str) else None) or Context()


def processing(service: str, delivery, *, batch=None):
    """The span around one delivery's handlers (and, alone, its transaction); ``batch``: the batch's span."""
    if not tracing.enabled():
        return tracing.NOTHING
    envelope, method = delivery.envelope, delivery.method
    attributes = {
        "messaging.system": "rabbitmq",
        "messaging.operation.type": "process",
        "messaging.destination.name": method.exchange,
        "messaging.rabbitmq.destination.routing_key": method.routing_key,
        "messaging.rabbitmq.message.delivery_tag": method.delivery_tag,
        "messaging.message.id": str(envelope.id),
        "messaging.message.conversation_id": str(envelope.correlation_id),
        "shop.message.type": envelope.type,
        "shop.message.version": envelope.version,
        tracing.SERVICE: service,
    }
    links = tracing.links_to(batch.get_span_context()) if batch is not None else ()
    return tracing.span(f"{envelope.type} process", kind=SpanKind.CONSUMER, parent=_origin(delivery),
                        attributes=attributes, links=links)


def batch(service: str, deliveries: list):
    """The span around a batch's transaction: a trace of its own, linked to where each message came from."""
    if not tracing.enabled():
        return tracing.NOTHING
    origins = [trace.get_current_span(_origin(delivery)).get_span_context() for delivery in deliveries]
    attributes = {"messaging.system": "rabbitmq", "messaging.batch.message_count": len(deliveries),
                  tracing.SERVICE: service}
    return tracing.span(f"{service} batch", parent=Context(), attributes=attributes,
                        links=tracing.links_to(*origins))
