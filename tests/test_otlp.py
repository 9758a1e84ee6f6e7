"""The shop's OTLP span encoder (shopsite/otlp.py) sends what the SDK's encoder would, byte for field.

Each test makes real SDK spans, encodes them both ways and compares the
parsed requests: a field written under a wrong number, type or default, or a
span grouped under the wrong resource or scope, makes them differ.
tests/e2e/test_traces.py sends the shop's real spans through this exporter to
a collector that decodes them.
"""

from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanLimits, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Link, NonRecordingSpan, SpanContext, SpanKind, Status, StatusCode, TraceFlags
from opentelemetry.trace import set_span_in_context
from opentelemetry.trace.span import TraceState

from shopsite.otlp import MEMO_SIZE, Encoder
from tests.otlp import Collector

EVERY_TYPE = {"text": "SELECT 1", "empty": "", "yes": True, "no": False, "zero": 0, "count": 42, "below": -7,
              "huge": 2**62, "ratio": 0.25, "negative": -1.5, "blob": b"\x00\xff", "names": ("a", "", "c"),
              "flags": (True, False), "numbers": (1, -2, 3), "ratios": (0.5,)}


def made(provider: TracerProvider, exporter: InMemorySpanExporter, *, tracer="shop", version=None):
    tracer = provider.get_tracer(tracer, version)
    remote = SpanContext(0xAB << 64, 0xCD, is_remote=True, trace_flags=TraceFlags(1),
                         trace_state=TraceState([("vendor", "x1"), ("other", "y")]))
    with tracer.start_as_current_span("POST api/cart/checkout/", context=set_span_in_context(NonRecordingSpan(remote)),
                                      kind=SpanKind.SERVER, attributes=EVERY_TYPE) as request:
        request.add_event("retried", {"attempt": 2, "why": "deadlock"})
        request.add_event("bare")
        with tracer.start_as_current_span("cart.checked_out process", kind=SpanKind.CONSUMER,
                                          links=[Link(remote, {"messaging.message.id": "m1"}), Link(remote)]):
            for kind in (SpanKind.CLIENT, SpanKind.PRODUCER, SpanKind.INTERNAL):
                tracer.start_span(f"{kind.name} child", kind=kind, attributes={"db.query.text": "SELECT 1"}).end()
            failed = tracer.start_span("INSERT orders", kind=SpanKind.CLIENT)
            failed.record_exception(ValueError("no such table"))
            failed.set_status(Status(StatusCode.ERROR, "OperationalError"))
            failed.end()
        request.set_status(Status(StatusCode.OK))
    return exporter.get_finished_spans()


def provider_with(exporter, **options) -> TracerProvider:
    provider = TracerProvider(**options)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider


def assert_same_request(spans, encoder=None):
    ours = ExportTraceServiceRequest.FromString((encoder or Encoder()).request(spans))
    assert ours == encode_spans(spans)
    assert sum(len(scope.spans) for resource in ours.resource_spans for scope in resource.scope_spans) == len(spans)


def test_every_field_and_attribute_type_is_encoded_as_the_sdk_encodes_it():
    exporter = InMemorySpanExporter()
    assert_same_request(made(provider_with(exporter), exporter))


def test_spans_are_grouped_by_resource_then_scope_in_the_order_first_seen():
    exporter = InMemorySpanExporter()
    made(provider_with(exporter, resource=Resource({"service.name": "shop-web"}, "https://schema/1")), exporter)
    made(provider_with(exporter, resource=Resource({"service.name": "shop-orders", "pid": 7})), exporter,
         tracer="other", version="2.0")
    spans = exporter.get_finished_spans()
    assert_same_request(spans)
    assert len(ExportTraceServiceRequest.FromString(Encoder().request(spans)).resource_spans) == 2


def test_dropped_attributes_events_and_links_are_counted():
    exporter = InMemorySpanExporter()
    limits = SpanLimits(max_span_attributes=3, max_events=1, max_links=1, max_event_attributes=1,
                        max_link_attributes=0)
    spans = made(provider_with(exporter, span_limits=limits), exporter)
    assert any(span.dropped_attributes and span.dropped_events for span in spans)
    assert any(span.dropped_links for span in spans)
    assert_same_request(spans)


def test_remembered_attributes_encode_the_same_and_the_memory_is_bounded():
    exporter = InMemorySpanExporter()
    tracer = provider_with(exporter).get_tracer("shop")
    for number in range(MEMO_SIZE + 50):  # each a value of its own, as message ids are
        tracer.start_span("SELECT cart", attributes={"db.query.text": "SELECT 1", "messaging.message.id": str(number)},
                          ).end()
    spans = exporter.get_finished_spans()
    encoder = Encoder()
    assert_same_request(spans, encoder)
    assert_same_request(spans, encoder)  # the second time from what it remembers
    assert len(encoder._attributes) <= MEMO_SIZE


def test_an_attribute_that_cannot_be_encoded_is_left_out_and_the_span_kept():
    exporter = InMemorySpanExporter()
    tracer = provider_with(exporter).get_tracer("shop")
    span = tracer.start_span("odd")
    span._attributes._dict["unencodable"] = object()  # past the SDK's own checks, as a buggy processor might
    span.set_attribute("kept", 1)
    span.end()

    request = ExportTraceServiceRequest.FromString(Encoder().request(exporter.get_finished_spans()))
    (encoded,) = request.resource_spans[0].scope_spans[0].spans
    assert [pair.key for pair in encoded.attributes] == ["kept"]


def test_the_exporter_posts_the_encoded_spans_to_a_collector(tmp_path, monkeypatch):
    from shopsite.otlp import OTLPSpanExporter

    exporter = InMemorySpanExporter()
    spans = made(provider_with(exporter), exporter)
    with Collector(tmp_path / "spans.jsonl") as collector:
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector.endpoint)
        otlp = OTLPSpanExporter()
        assert otlp.export(spans).name == "SUCCESS"
        otlp.shutdown()
        received = collector.spans()
    assert sorted(s["span_id"] for s in received) == sorted(f"{s.context.span_id:016x}" for s in spans)
    assert {s["name"] for s in received} >= {"POST api/cart/checkout/", "INSERT orders"}


def test_a_batch_over_the_size_limit_is_dropped_not_sent(monkeypatch):
    from shopsite.otlp import OTLPSpanExporter

    exporter = InMemorySpanExporter()
    spans = made(provider_with(exporter), exporter)
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:9")  # nothing listens: never reached
    otlp = OTLPSpanExporter(max_request_size=10)
    assert otlp.export(spans).name == "FAILURE"
