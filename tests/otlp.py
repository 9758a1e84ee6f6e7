"""A stand-in for an OpenTelemetry collector: it takes OTLP/HTTP trace posts on loopback.

The shop's processes export to it with the real OTLP exporter, exactly as they
would to a collector; it decodes each post (opentelemetry-proto) and appends
every span to a JSON-lines file, one object per span, so a test reads what
every process exported from one place. ``keep=False`` only counts (the
benchmark, which should spend as little as a remote collector would here).
"""

from __future__ import annotations

import gzip
import json
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (ExportTraceServiceRequest,
                                                                      ExportTraceServiceResponse)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue

from tests.loopback import free_port

KINDS = {0: "UNSPECIFIED", 1: "INTERNAL", 2: "SERVER", 3: "CLIENT", 4: "PRODUCER", 5: "CONSUMER"}


def _value(value: AnyValue):
    kind = value.WhichOneof("value")
    if kind == "array_value":
        return [_value(v) for v in value.array_value.values]
    if kind == "bytes_value":
        return value.bytes_value.hex()  # JSON has no bytes
    return getattr(value, kind) if kind else None


def _attributes(pairs) -> dict:
    return {pair.key: _value(pair.value) for pair in pairs}


def spans_of(request: ExportTraceServiceRequest) -> list[dict]:
    spans = []
    for resource_spans in request.resource_spans:
        resource = _attributes(resource_spans.resource.attributes)
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                spans.append({
                    "service_name": resource.get("service.name"),
                    "trace_id": span.trace_id.hex(), "span_id": span.span_id.hex(),
                    "parent_span_id": span.parent_span_id.hex() or None,
                    "name": span.name, "kind": KINDS.get(span.kind, str(span.kind)),
                    "attributes": _attributes(span.attributes),
                    "links": [{"trace_id": link.trace_id.hex(), "span_id": link.span_id.hex()} for link in span.links],
                    "status": span.status.code,
                })
    return spans


class Collector:
    """``with Collector(path) as collector:`` then point OTEL_EXPORTER_OTLP_ENDPOINT at ``collector.endpoint``."""

    def __init__(self, path: Path | None = None, *, keep: bool = True) -> None:
        self.path, self.keep = path, keep
        self.posts = self.span_count = 0
        self._lock = threading.Lock()
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def _handler(self):
        collector = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                encoding = self.headers.get("Content-Encoding", "")
                if encoding == "gzip":
                    body = gzip.decompress(body)
                elif encoding == "deflate":
                    body = zlib.decompress(body)
                if self.path != "/v1/traces":
                    self.send_error(404)
                    return
                collector._received(body)
                answer = ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):  # quiet: one line per post would flood the test's output
                pass

        return Handler

    def _received(self, body: bytes) -> None:
        if not self.keep:
            with self._lock:
                self.posts += 1
            return
        spans = spans_of(ExportTraceServiceRequest.FromString(body))
        with self._lock:
            self.posts += 1
            self.span_count += len(spans)
            with open(self.path, "a") as file:
                file.writelines(json.dumps(span) + "\n" for span in spans)

    def spans(self) -> list[dict]:
        with self._lock:
            if not self.path.exists():
                return []
            return [json.loads(line) for line in self.path.read_text().splitlines()]

    def __enter__(self) -> Collector:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
