"""OTLP/HTTP span export with an encoder of the shop's own, several times cheaper than the SDK's.

The exporter OpenTelemetry ships builds a protobuf object for every span,
attribute and value, then serialises them: about 60 µs a span here, more
than making the span. The shop's traces are ~80 spans an order, most of them
queries whose attributes repeat (the same few statements, the same database),
so this encoder writes the OTLP wire format directly and keeps the bytes of
each attribute it has already written. A span costs a few microseconds, and
the bytes sent are the same request the SDK's encoder would send (a test
parses both and compares them).

Only the encoding is ours: the HTTP client, its retries, compression,
headers, timeouts and every ``OTEL_EXPORTER_OTLP_*`` variable are the SDK
exporter's, which this subclasses (its version is pinned in pyproject.toml,
as this relies on its ``_client``).
"""

from __future__ import annotations

import logging
import struct
from collections.abc import Mapping, Sequence

from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as SDKSpanExporter
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExportResult

_logger = logging.getLogger(__name__)

#: Attributes whose bytes are kept; past it the memo starts again (message ids and such never repeat).
MEMO_SIZE = 4096
#: Span.flags: "the parent's is_remote is known" (SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE_MASK), and "it is remote".
HAS_IS_REMOTE, IS_REMOTE = 0x100, 0x200

_fixed64 = struct.Struct("<Q").pack
_fixed32 = struct.Struct("<I").pack
_double = struct.Struct("<d").pack


def _varint(value: int) -> bytes:
    if value < 0x80:
        return bytes((value,))
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _tag(field: int, wire_type: int) -> bytes:
    return _varint(field << 3 | wire_type)


def _delimited(field: int, payload: bytes) -> bytes:
    """A length-delimited field (a string, bytes or a message)."""
    return _tag(field, 2) + _varint(len(payload)) + payload


def _string(field: int, text: str) -> bytes:
    return _delimited(field, text.encode()) if text else b""


def _uint(field: int, value: int) -> bytes:
    return _tag(field, 0) + _varint(value) if value else b""


# --- common.v1: AnyValue, KeyValue, InstrumentationScope; resource.v1: Resource -----------------


def _any_value(value) -> bytes:
    """An AnyValue's fields, as the SDK's encoder chooses them (a bool before an int, a str before a sequence)."""
    if value is None:
        return b""
    if isinstance(value, bool):
        return _tag(2, 0) + (b"\x01" if value else b"\x00")
    if isinstance(value, str):
        return _delimited(1, value.encode())
    if isinstance(value, int):
        return _tag(3, 0) + _varint(value & 0xFFFFFFFFFFFFFFFF)  # int64: two's complement
    if isinstance(value, float):
        return _tag(4, 1) + _double(value)
    if isinstance(value, bytes):
        return _delimited(7, value)
    if isinstance(value, Sequence):
        return _delimited(5, b"".join(_delimited(1, _any_value(item)) for item in value))
    if isinstance(value, Mapping):
        return _delimited(6, b"".join(_delimited(1, _key_value(str(k), v)) for k, v in value.items()))
    raise TypeError(f"cannot encode {type(value).__name__} {value!r}")


def _key_value(key: str, value) -> bytes:
    return _string(1, key) + _delimited(2, _any_value(value))


class Encoder:
    """Spans to the bytes of an ``ExportTraceServiceRequest``; keeps the bytes of attributes it has seen."""

    def __init__(self) -> None:
        self._attributes: dict[tuple, bytes] = {}

    def request(self, spans: Sequence[ReadableSpan]) -> bytes:
        # Resource > scope > spans, in the order first seen, as the SDK's encoder groups them; but by identity
        # (a provider's spans share its objects), where the SDK's hashes a resource's JSON for every span.
        grouped: dict = {}
        for span in spans:
            resource, scope = span.resource, span.instrumentation_scope
            scopes = grouped.setdefault(id(resource), (resource, {}))[1]
            scopes.setdefault(id(scope), (scope, []))[1].append(self.span(span))
        out = []
        for resource, scopes in grouped.values():
            scope_spans = b"".join(_delimited(2, self._scope_spans(scope, encoded)) for scope, encoded in scopes.values())
            resource_spans = (_delimited(1, self.attributes(1, resource.attributes)) + scope_spans
                              + _string(3, resource.schema_url))
            out.append(_delimited(1, resource_spans))
        return b"".join(out)

    def _scope_spans(self, scope, spans: list[bytes]) -> bytes:
        described = b"" if scope is None else (_string(1, scope.name) + _string(2, scope.version or "")
                                                + self.attributes(3, scope.attributes))
        return (_delimited(1, described) + b"".join(_delimited(2, span) for span in spans)
                + _string(3, (scope.schema_url or "") if scope is not None else ""))

    def attributes(self, field: int, attributes) -> bytes:
        if not attributes:
            return b""
        memo = self._attributes
        out = []
        for key, value in attributes.items():
            try:
                memo_key = (field, key, value.__class__, value)
                encoded = memo.get(memo_key)
            except TypeError:  # unhashable (a list): encoded each time
                memo_key, encoded = None, None
            if encoded is None:
                try:
                    encoded = _delimited(field, _key_value(key, value))
                except Exception as error:  # as the SDK's encoder: the attribute is left out, the span kept
                    _logger.exception("Failed to encode key %s: %s", key, error)
                    continue
                if memo_key is not None:
                    if len(memo) >= MEMO_SIZE:
                        memo.clear()
                    memo[memo_key] = encoded
            out.append(encoded)
        return b"".join(out)

    def span(self, span: ReadableSpan) -> bytes:
        """One trace.v1.Span: the fields in number order, those left at their default omitted."""
        context = span.context
        parent = span.parent
        out = [b"\x0a\x10", context.trace_id.to_bytes(16, "big"), b"\x12\x08", context.span_id.to_bytes(8, "big")]
        if context.trace_state:
            out.append(_string(3, ",".join(f"{k}={v}" for k, v in context.trace_state.items())))
        if parent is not None:
            out += (b"\x22\x08", parent.span_id.to_bytes(8, "big"))
        out.append(_string(5, span.name))
        out.append(b"\x30" + _varint(span.kind.value + 1))  # SpanKind INTERNAL=0 is the protocol's 1
        if span.start_time:
            out += (b"\x39", _fixed64(span.start_time))
        if span.end_time:
            out += (b"\x41", _fixed64(span.end_time))
        out.append(self.attributes(9, span.attributes))
        out.append(_uint(10, span.dropped_attributes))
        for event in span.events:
            out.append(_delimited(11, (b"\x09" + _fixed64(event.timestamp) if event.timestamp else b"")
                                  + _string(2, event.name) + self.attributes(3, event.attributes)
                                  + _uint(4, event.dropped_attributes)))
        out.append(_uint(12, span.dropped_events))
        for link in span.links:
            out.append(_delimited(13, b"\x0a\x10" + link.context.trace_id.to_bytes(16, "big")
                                  + b"\x12\x08" + link.context.span_id.to_bytes(8, "big")
                                  + self.attributes(4, link.attributes) + _uint(5, link.dropped_attributes)
                                  + b"\x35" + _fixed32(_flags(link.context))))
        out.append(_uint(14, span.dropped_links))
        status = span.status
        if status is not None:
            out.append(_delimited(15, _string(2, status.description or "") + _uint(3, status.status_code.value)))
        out += (b"\x85\x01", _fixed32(_flags(parent)))
        return b"".join(out)


def _flags(parent) -> int:
    return HAS_IS_REMOTE | (IS_REMOTE if parent is not None and parent.is_remote else 0)


class OTLPSpanExporter(SDKSpanExporter):
    """The SDK's OTLP/HTTP span exporter, encoding with ``Encoder``."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._encoder = Encoder()

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        if self._shutdown:
            _logger.warning("Exporter already shutdown, ignoring batch")
            return SpanExportResult.FAILURE
        try:
            body = self._encoder.request(spans)
        except Exception as error:  # noqa: BLE001 - a batch that cannot be encoded is dropped, never raised
            _logger.error("Failed to encode span batch: %s", error)
            return SpanExportResult.FAILURE
        if len(body) > self._max_request_size:
            _logger.warning("Dropping span batch: %d bytes exceeds max_request_size %d bytes.", len(body),
                            self._max_request_size)
            return SpanExportResult.FAILURE
        return SpanExportResult.SUCCESS if self._client.export(body).success else SpanExportResult.FAILURE
