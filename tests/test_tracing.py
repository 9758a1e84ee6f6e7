"""Traces: off by default at no cost; on, a message's handling continues the trace that recorded it.

The spans are kept in memory here (an SDK exporter of OpenTelemetry's own);
tests/e2e/test_traces.py follows one checkout through the real processes and
the real OTLP exporter.
"""

import json
import os

import pytest
from django.db import connections
from django.test import Client
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from catalog.models import OutboxMessage
from shopsite import contracts, tracing
from shopsite.bus.connection import connect
from tests.bus.test_rabbitmq import consume, declared, record, released
from tests.fresh_python import answer

WAITING = 6


@pytest.fixture
def spans():
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracing.install(provider)
    yield exporter
    tracing.uninstall()


def test_tracing_is_on_only_when_the_otel_variables_ask_for_it():
    assert tracing.exporters_wanted({}) == []
    assert tracing.exporters_wanted({"OTEL_SERVICE_NAME": "shop"}) == []
    assert tracing.exporters_wanted({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}) == ["otlp"]
    assert tracing.exporters_wanted({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://c:4318/v1/traces"}) == ["otlp"]
    assert tracing.exporters_wanted({"OTEL_TRACES_EXPORTER": "console,otlp"}) == ["console", "otlp"]
    assert tracing.exporters_wanted({"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c"}) == []
    assert tracing.exporters_wanted({"OTEL_SDK_DISABLED": "true", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c"}) == []


PROBE = """
import json, sys
import shopsite.wsgi
from django.db import connections
from opentelemetry import trace
from shopsite import tracing
connections["catalog"].ensure_connection()
print(json.dumps({
    "traced": tracing.enabled(),
    "sdk_loaded": "opentelemetry.sdk" in sys.modules,
    "provider": type(trace.get_tracer_provider()).__name__,
    "resource": dict(getattr(trace.get_tracer_provider(), "resource", None).attributes) if tracing.enabled() else {},
    "query_hooks": [type(w).__name__ for w in connections["catalog"].execute_wrappers],
}))
"""


def web_process(**otel) -> dict:
    """What the web process's start-up (shopsite/wsgi.py) set up, in a fresh interpreter."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("OTEL_")}
    env.update(DJANGO_SETTINGS_MODULE="shopsite.settings_test", **otel)
    return answer(PROBE, env)


def test_without_otel_configuration_a_process_sets_up_nothing():
    off = web_process()
    assert off == {"traced": False, "sdk_loaded": False, "provider": "ProxyTracerProvider", "resource": {},
                   "query_hooks": []}


def test_with_an_exporter_named_a_process_traces_under_its_own_name():
    on = web_process(OTEL_TRACES_EXPORTER="console")
    assert on["traced"] and on["provider"] == "TracerProvider" and on["query_hooks"] == ["_QuerySpans"]
    assert on["resource"]["service.name"] == "shop-web"
    named = web_process(OTEL_TRACES_EXPORTER="console", OTEL_SERVICE_NAME="storefront-eu",
                        OTEL_PYTHON_DISABLED_INSTRUMENTATIONS="dbapi")
    assert named["resource"]["service.name"] == "storefront-eu"
    assert named["traced"] and named["query_hooks"] == []  # no query spans, as asked


def published_headers(consumer) -> list[dict]:
    """The AMQP headers of what waits in the consumer's queue, taken off it."""
    connection = connect()
    channel = connection.channel()
    headers = []
    while True:
        method, properties, _ = channel.basic_get(consumer.names.queue("catalog"), auto_ack=True)
        if method is None:
            break
        headers.append(properties.headers or {})
    connection.close()
    return headers


@pytest.mark.broker
@pytest.mark.django_db(databases=["catalog"], transaction=True)
def test_with_tracing_off_rows_carry_no_traceparent_and_messages_no_header(bus_names):
    consumer = declared(lambda message: None)
    record(released(), released())

    assert list(OutboxMessage.objects.values_list("traceparent", flat=True)) == [None, None]
    headers = published_headers(consumer)
    assert len(headers) == 2 and not any("traceparent" in h for h in headers)


def reply(message) -> None:
    OutboxMessage.record(contracts.StockRejected(order_id=message.order_id, shortages=[]))


def traceparent_of(span) -> str:
    context = span.get_span_context()
    return f"00-{context.trace_id:032x}-{context.span_id:016x}-{context.trace_flags:02x}"


@pytest.mark.broker
@pytest.mark.django_db(databases=["catalog"], transaction=True)
def test_each_message_is_handled_in_a_span_continuing_the_trace_that_recorded_it(bus_names, spans):
    consumer = declared(reply)
    with tracing.span("checkout") as request:
        envelopes = record(*[released() for _ in range(WAITING)])
    recorded = {row.id: row.traceparent for row in OutboxMessage.objects.all()}
    assert set(recorded.values()) == {traceparent_of(request)}

    consume(consumer, until=lambda: consumer.handled == WAITING)

    finished = spans.get_finished_spans()
    processed = [s for s in finished if s.kind == SpanKind.CONSUMER]
    assert sorted(s.attributes["messaging.message.id"] for s in processed) == sorted(str(e.id) for e in envelopes)
    request_context = request.get_span_context()
    for span in processed:
        assert span.name == "stock.released process"
        assert span.parent.span_id == request_context.span_id
        assert span.context.trace_id == request_context.trace_id
        assert span.attributes["messaging.system"] == "rabbitmq"
        assert span.attributes["messaging.destination.name"] == bus_names.exchange
        assert span.attributes["messaging.rabbitmq.destination.routing_key"] == "stock.released"
        assert span.attributes["shop.service"] == "catalog"
        # The handler's own statements would be here; this one's only statement is its outbox row, written
        # with the batch's others (below).
        queries = [s for s in finished if s.parent is not None and s.parent.span_id == span.context.span_id]
        assert all(q.kind == SpanKind.CLIENT and q.attributes["shop.service"] == "catalog" for q in queries)

    # What a handler records carries the span it was handled in.
    by_order = {json.loads(row.body)["payload"]["order_id"]: row.traceparent
                for row in OutboxMessage.objects.filter(type=contracts.StockRejected.TYPE)}
    handled_in = {e.payload["order_id"]: next(s for s in processed if s.attributes["messaging.message.id"] == str(e.id))
                  for e in envelopes}
    assert by_order == {order_id: traceparent_of(span) for order_id, span in handled_in.items()}

    # Batched messages kept their own traces; the batch's transaction links them together.
    batches = [s for s in finished if s.name == "catalog batch"]
    assert batches, "the waiting messages were not handled in a batch"
    for batch in batches:
        assert batch.parent is None and batch.context.trace_id != request_context.trace_id
        assert {link.context.span_id for link in batch.links} == {request_context.span_id}
        members = [s for s in processed if any(link.context.span_id == batch.context.span_id for link in s.links)]
        assert len(members) == batch.attributes["messaging.batch.message_count"]
        # The statements its messages share are its own: the inbox rows claimed, the outbox rows written.
        queries = [s for s in finished if s.parent is not None and s.parent.span_id == batch.context.span_id]
        assert all(q.kind == SpanKind.CLIENT and q.attributes["shop.service"] == "catalog" for q in queries)
        inserts = [q.attributes["db.query.text"] for q in queries if q.name == "INSERT catalog"]
        assert [text.split(" (")[0] for text in inserts] == ['INSERT INTO "catalog_inboxmessage"',
                                                              'INSERT INTO "catalog_outboxmessage"']


@pytest.mark.broker
@pytest.mark.django_db(databases=["catalog"], transaction=True)
def test_the_traceparent_travels_in_the_amqp_headers(bus_names, spans):
    consumer = declared(lambda message: None)
    with tracing.span("staff action") as action:
        record(released())

    assert published_headers(consumer)[0]["traceparent"] == traceparent_of(action)


@pytest.mark.django_db(databases="__all__")
def test_a_request_is_a_server_span_named_by_its_route_with_its_queries_under_it(spans):
    response = Client().get("/api/catalog/products/", HTTP_TRACEPARENT=f"00-{'ab' * 16}-{'cd' * 8}-01")

    assert response.status_code == 200
    finished = spans.get_finished_spans()
    request = next(s for s in finished if s.kind == SpanKind.SERVER)
    assert request.name == "GET api/catalog/products/"
    assert request.attributes["shop.service"] == "catalog"
    assert request.attributes["http.response.status_code"] == 200
    assert f"{request.context.trace_id:032x}" == "ab" * 16  # the caller's trace goes on
    assert any(s.kind == SpanKind.CLIENT and s.parent.span_id == request.context.span_id for s in finished)
    assert connections["catalog"].execute_wrappers  # the hook stays, inert once tracing is off again


def query_spans_of_one_request(provider) -> tuple:
    """The request's span and its query spans, with ``provider`` installed for one request."""
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracing.install(provider)
    try:
        assert Client().get("/api/catalog/products/").status_code == 200
    finally:
        tracing.uninstall()
    finished = exporter.get_finished_spans()
    requests = [s for s in finished if s.kind == SpanKind.SERVER]
    return requests, [s for s in finished if s.kind == SpanKind.CLIENT]


def described(span, request) -> dict:
    return {"name": span.name, "kind": span.kind, "trace": span.context.trace_id == request.context.trace_id,
            "parent": span.parent.span_id == request.context.span_id, "sampled": span.context.trace_flags.sampled,
            "remote": span.context.is_remote, "resource": dict(span.resource.attributes),
            "scope": span.instrumentation_scope.name, "attributes": dict(span.attributes),
            "status": span.status.status_code, "ended": span.end_time >= span.start_time > 0}


@pytest.mark.django_db(databases="__all__")
def test_a_query_span_made_finished_is_the_span_the_tracer_would_make(monkeypatch):
    assert tracing.LeafSpans.of(TracerProvider(), TracerProvider().get_tracer("shop")) is not None
    ([request], queries) = query_spans_of_one_request(TracerProvider())
    # A length limit (any) sends query spans through the tracer, which applies it.
    monkeypatch.setenv("OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT", "100000")
    assert tracing.LeafSpans.of(TracerProvider(), TracerProvider().get_tracer("shop")) is None
    ([request_through_tracer], through_tracer) = query_spans_of_one_request(TracerProvider())

    assert queries and len(queries) == len(through_tracer)
    assert [described(s, request) for s in queries] == [described(s, request_through_tracer) for s in through_tracer]
    assert len({s.context.span_id for s in queries} | {request.context.span_id}) == len(queries) + 1


@pytest.mark.django_db(databases="__all__")
def test_queries_follow_their_request_when_it_is_not_sampled():
    from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ParentBased

    requests, queries = query_spans_of_one_request(TracerProvider(sampler=ParentBased(ALWAYS_OFF)))
    assert requests == [] and queries == []


@pytest.mark.django_db(databases="__all__")
def test_a_sampler_that_is_not_parent_based_is_asked_about_every_query():
    from opentelemetry.sdk.trace.sampling import Decision, Sampler, SamplingResult

    class NoSelects(Sampler):  # keeps everything but SELECT spans, whatever their parent decided
        def should_sample(self, parent_context, trace_id, name, *args, **kwargs):
            return SamplingResult(Decision.DROP if name.startswith("SELECT") else Decision.RECORD_AND_SAMPLE)

        def get_description(self):
            return "NoSelects"

    requests, queries = query_spans_of_one_request(TracerProvider(sampler=NoSelects()))
    assert len(requests) == 1
    assert not [s for s in queries if s.name.startswith("SELECT")]


@pytest.mark.django_db(databases="__all__")
def test_a_failed_query_is_an_error_span_with_the_exception(spans):
    from django.db import DatabaseError

    with tracing.span("handling"), pytest.raises(DatabaseError):
        with connections["catalog"].cursor() as cursor:
            cursor.execute("SELECT no_such_column FROM catalog_product")
    (failed,) = [s for s in spans.get_finished_spans() if s.kind == SpanKind.CLIENT]
    assert failed.name == "SELECT catalog"
    assert failed.status.status_code.name == "ERROR"
    assert [event.name for event in failed.events] == ["exception"]
    assert failed.end_time >= failed.start_time


@pytest.mark.parametrize("limit", ["0", "4"])
def test_an_attribute_count_limit_sends_query_spans_through_the_tracer(monkeypatch, limit):
    monkeypatch.setenv("OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", limit)  # the tracer drops what is over it
    assert tracing.LeafSpans.of(TracerProvider(), TracerProvider().get_tracer("shop")) is None
