"""Traces with OpenTelemetry, when the standard ``OTEL_*`` variables ask for them.

Each process calls ``setup`` once from its entry point (the WSGI module, the
consumer and relay commands). Without any OTEL configuration it does
nothing: the SDK is not even imported, no middleware or database hook is
installed, and the few places that would touch a span (recording an outbox
row, handling a delivery) check one module variable and move on. So tracing
off costs nothing and stores nothing (an outbox row's ``traceparent`` stays
null).

With it on, two kinds of spans are made here, and the bus adds its own
(bus/spans.py):

- a SERVER span per Django request (``RequestSpanMiddleware``), continuing
  the caller's ``traceparent`` header if it sent one;
- a CLIENT span per database query made while a span is current (but for
  BEGIN, SAVEPOINT and the like), through
  Django's ``execute_wrappers`` on every connection: one hook for SQLite and
  PostgreSQL alike, on the statement Django already has in hand, rather than
  proxies around every DB-API connection and cursor. Queries outside any span
  (the relay's sweeps, marking rows sent) make none: each would otherwise be
  a trace of its own, several a second, telling nobody anything.

Queries are most of a checkout's spans (about 60 of 80), and a span made
through the SDK's tracer costs tens of microseconds before it is exported.
A query's span is a leaf that nothing else will ever see open, so it is made
finished: timed around the query, then handed to the span processors as the
SDK's own spans are when they end (``LeafSpans``), about a tenth of the cost.
That shortcut answers the sampler's question itself, so it is taken only
where the answer is certain: with a parent-based sampler (the default, and
``parentbased_*``) a query follows its span's decision. Any other sampler or
span limit, and a query that fails, goes through the tracer as usual. The
spans are exported by the shop's own OTLP encoder (shopsite/otlp.py).

Spans never carry a request body or a query's parameters, only the statement
with its placeholders: a card number cannot end up in a span.
"""

from __future__ import annotations

import contextlib
import os
import time

from django.conf import settings
from django.core.exceptions import MiddlewareNotUsed
from django.db import connections
from django.db.backends.signals import connection_created
from opentelemetry import trace
from opentelemetry.trace import Link, SpanContext, SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

#: Each process's name in the traces unless OTEL_SERVICE_NAME (or service.name in OTEL_RESOURCE_ATTRIBUTES) says otherwise.
SERVICE_NAME_PREFIX = "shop-"
#: The span attribute that names the shop's service (accounts, cart, ...) whichever process the span comes from.
SERVICE = "shop.service"
#: What a query's span keeps of its statement (placeholders only, never parameters).
MAX_STATEMENT = 1000
#: Named in OTEL_PYTHON_DISABLED_INSTRUMENTATIONS (as OpenTelemetry's own DB-API instrumentation is), no query spans.
QUERY_SPANS_OFF = "dbapi"
#: Statements whose span name and attributes a connection keeps (past it, it starts again).
MAX_STATEMENTS_KEPT = 1000
#: Statements that get no span: a third of a message's queries (its transaction and savepoint), telling
#: nothing the consumer's span does not already show, at the cost of a span each.
TRANSACTION_CONTROL = frozenset({"BEGIN", "SAVEPOINT", "RELEASE", "ROLLBACK", "COMMIT"})

#: What ``span`` gives when tracing is off: a context manager that does nothing (reusable).
NOTHING = contextlib.nullcontext()
_W3C = TraceContextTextMapPropagator()
_tracer: trace.Tracer | None = None  # None: tracing is off
_leaves: LeafSpans | None = None  # None: query spans go through the tracer


def enabled() -> bool:
    return _tracer is not None


def exporters_wanted(environ=os.environ) -> list[str]:
    """The span exporters the OTEL variables ask for; none when tracing is off (the default).

    OpenTelemetry's own default is to export to localhost:4318 whether
    anything listens there or not; the shop exports only when told where to,
    or which exporter to use.
    """
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return []
    named = [name.strip().lower() for name in environ.get("OTEL_TRACES_EXPORTER", "").split(",") if name.strip()]
    if named:
        return [] if "none" in named else named
    if environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        return ["otlp"]
    return []


def setup(process: str) -> bool:
    """Trace this process if the OTEL variables ask for it; whether it is traced. Once per process.

    ``process`` names it (``web``, ``relay``, or a service for its consumer).
    Call it after the settings are loaded (they read ``.env``, which may hold
    the OTEL variables) and before the WSGI handler builds its middleware.

    In the web, gunicorn imports the WSGI module in each worker after forking
    it (no ``--preload``), so each worker sets up its own exporter thread; with
    ``--preload`` the SDK starts that thread again in each child by itself.
    """
    if _tracer is not None:
        return True
    wanted = exporters_wanted()
    if not wanted:
        return False
    # Imported only here: a process that does not trace never loads the SDK.
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    resource = Resource.create()
    if resource.attributes.get(SERVICE_NAME, "").startswith("unknown_service"):
        resource = resource.merge(Resource({SERVICE_NAME: SERVICE_NAME_PREFIX + process}))
    provider = TracerProvider(resource=resource)  # the sampler comes from OTEL_TRACES_SAMPLER
    for name in wanted:
        provider.add_span_processor(BatchSpanProcessor(_exporter(name)))  # OTEL_BSP_* tune it
    trace.set_tracer_provider(provider)  # flushed at exit by the SDK
    install(provider)
    return True


def _exporter(name: str):
    if name in ("otlp", "otlp_proto_http"):
        from shopsite.otlp import OTLPSpanExporter

        return OTLPSpanExporter()  # endpoint, headers, timeout, compression: OTEL_EXPORTER_OTLP_*
    if name == "console":
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter

        return ConsoleSpanExporter()
    raise ValueError(f"OTEL_TRACES_EXPORTER: the shop exports spans by otlp (over HTTP), console or none, not {name!r}")


def install(provider: trace.TracerProvider) -> None:
    """Make spans through ``provider`` from now on (``setup`` does it; tests give one of their own)."""
    global _tracer, _leaves
    _tracer = provider.get_tracer("shop")
    _leaves = LeafSpans.of(provider, _tracer)
    if QUERY_SPANS_OFF in _disabled(os.environ):
        return
    connection_created.connect(_trace_queries, dispatch_uid="shop-tracing")
    for connection in connections.all(initialized_only=True):
        _trace_queries(sender=None, connection=connection)


def _disabled(environ) -> set[str]:
    return {name.strip() for name in environ.get("OTEL_PYTHON_DISABLED_INSTRUMENTATIONS", "").split(",")}


def uninstall() -> None:
    """Stop making spans (for tests): the query hooks already in place pass every query straight through."""
    global _tracer, _leaves
    _tracer = _leaves = None
    connection_created.disconnect(dispatch_uid="shop-tracing")


# --- spans ------------------------------------------------------------------


def span(name: str, *, kind: SpanKind = SpanKind.INTERNAL, parent=None, attributes=None, links=()):
    """A context manager: a span current inside it, ended at its end; nothing at all when tracing is off.

    ``parent``: a Context to continue (None: whatever is current).
    """
    if _tracer is None:
        return NOTHING
    return _tracer.start_as_current_span(name, context=parent, kind=kind, attributes=attributes, links=links)


def links_to(*span_contexts) -> list[Link]:
    return [Link(context) for context in span_contexts if context is not None and context.is_valid]


def traceparent() -> str | None:
    """The W3C ``traceparent`` of the current span; None when tracing is off or no span is current."""
    if _tracer is None:
        return None
    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return None
    return f"00-{context.trace_id:032x}-{context.span_id:016x}-{context.trace_flags:02x}"


def continuing(traceparent_header: str | None):
    """The context to continue from a ``traceparent``; None when there is none (malformed: an empty one)."""
    if not traceparent_header:
        return None
    return _W3C.extract({"traceparent": traceparent_header})


# --- database queries ---------------------------------------------------------


class _QuerySpans:
    """An execute wrapper: a CLIENT span around each query made while a span is current."""

    def __init__(self, connection) -> None:
        service = next((s for s, alias in settings.SERVICE_DATABASES.items() if alias == connection.alias),
                       connection.alias)
        self.service = service
        self.attributes = {"db.system.name": "postgresql" if connection.vendor == "postgresql" else connection.vendor,
                           "db.namespace": str(connection.settings_dict.get("NAME", "")), SERVICE: service}
        self._described: dict[str, tuple[str, dict] | None] = {}

    def describe(self, sql: str) -> tuple[str, dict] | None:
        """A statement's span name and attributes (None: no span), kept: an app makes the same few again and again.

        The attributes are shared by every span of the statement; spans are
        never changed once ended, so nothing writes to them.
        """
        described = self._described.get(sql, False)
        if described is False:
            operation = sql.lstrip().split(None, 1)[0].upper() if sql.strip() else "QUERY"
            described = None if operation in TRANSACTION_CONTROL else (
                f"{operation} {self.service}",
                {**self.attributes, "db.operation.name": operation, "db.query.text": sql[:MAX_STATEMENT]})
            if len(self._described) >= MAX_STATEMENTS_KEPT:
                self._described.clear()
            self._described[sql] = described
        return described

    def __call__(self, execute, sql, params, many, context):
        parent = trace.get_current_span().get_span_context() if _tracer is not None else None
        if parent is None or not parent.is_valid:
            return execute(sql, params, many, context)
        described = self.describe(sql)
        if described is None:
            return execute(sql, params, many, context)
        name, attributes = described
        leaves = _leaves
        if leaves is None or parent.is_remote:
            return self._through_the_tracer(name, attributes, execute, sql, params, many, context)
        if not parent.trace_flags.sampled:  # a parent-based sampler drops its children too
            return execute(sql, params, many, context)
        started = time.time_ns()
        try:
            result = execute(sql, params, many, context)
        except Exception as exc:
            with _tracer.start_span(name, kind=SpanKind.CLIENT, attributes=attributes, start_time=started) as span:
                _failed(span, exc)
            raise
        leaves.ended(name, SpanKind.CLIENT, parent, attributes, started, time.time_ns())
        return result

    @staticmethod
    def _through_the_tracer(name, attributes, execute, *args):
        # Started, never made current: nothing runs inside a query that could use it, and attaching costs.
        span = _tracer.start_span(name, kind=SpanKind.CLIENT, attributes=attributes)
        try:
            return execute(*args)
        except Exception as exc:
            _failed(span, exc)
            raise
        finally:
            span.end()


def _failed(span, exc: Exception) -> None:
    span.record_exception(exc)
    span.set_status(Status(StatusCode.ERROR, type(exc).__name__))


class LeafSpans:
    """Spans made finished, for leaves (queries): handed to the provider's span processors at their end.

    What the SDK's tracer does for a span that is sampled, recorded and never
    made current, minus its work for everything a leaf does not need: no
    sampler call (the parent's decision, which is what a parent-based sampler
    returns for a local parent), no lock, no attribute cleaning (the shop's
    attributes are strings it made). Processors get the span at ``on_end``
    only; ``on_start`` is skipped (the SDK's batch and simple processors do
    nothing there).
    """

    #: What a parent-based sampler must say of local parents for the shortcut to give its answer.
    FOLLOWS_LOCAL_PARENT = ",localParentSampled:AlwaysOnSampler,localParentNotSampled:AlwaysOffSampler}"

    def __init__(self, provider, tracer) -> None:
        self.resource = provider.resource
        self.processor = provider._active_span_processor  # noqa: SLF001 - the SDK pinned in pyproject.toml
        self.new_span_id = provider.id_generator.generate_span_id
        self.scope = tracer._instrumentation_scope  # noqa: SLF001 - spans of one tracer share one scope

    @classmethod
    def of(cls, provider, tracer) -> LeafSpans | None:
        """For an SDK provider whose sampler and limits allow it; None otherwise (spans through the tracer)."""
        from opentelemetry.sdk.trace import SpanLimits, TracerProvider

        if not isinstance(provider, TracerProvider):
            return None
        description = provider.sampler.get_description()
        if not (description.startswith("ParentBased{") and description.endswith(cls.FOLLOWS_LOCAL_PARENT)):
            return None
        limits = SpanLimits()  # read from the OTEL_*_LIMIT variables, as the tracer's are
        if limits.max_span_attribute_length is not None or (limits.max_span_attributes is not None
                                                             and limits.max_span_attributes < 16):
            return None
        return cls(provider, tracer)

    def ended(self, name: str, kind: SpanKind, parent: SpanContext, attributes: dict, started: int,
              ended: int) -> None:
        from opentelemetry.sdk.trace import ReadableSpan

        context = SpanContext(parent.trace_id, self.new_span_id(), is_remote=False, trace_flags=parent.trace_flags,
                              trace_state=parent.trace_state)
        self.processor.on_end(ReadableSpan(name, context, parent, self.resource, attributes, kind=kind,
                                           start_time=started, end_time=ended, instrumentation_scope=self.scope))


def _trace_queries(sender, connection, **kwargs) -> None:
    if not any(isinstance(wrapper, _QuerySpans) for wrapper in connection.execute_wrappers):
        connection.execute_wrappers.append(_QuerySpans(connection))


# --- requests -------------------------------------------------------------------


class RequestSpanMiddleware:
    """A SERVER span around each request, named by its route; out of the chain altogether when tracing is off."""

    def __init__(self, get_response) -> None:
        if _tracer is None:
            raise MiddlewareNotUsed("tracing is off")
        self.get_response = get_response

    def __call__(self, request):
        attributes = {"http.request.method": request.method, "url.path": request.path, SERVICE: "web"}
        with span(request.method, kind=SpanKind.SERVER, parent=continuing(request.META.get("HTTP_TRACEPARENT")),
                  attributes=attributes) as current:
            response = self.get_response(request)
            match = getattr(request, "resolver_match", None)
            if match is not None:
                current.update_name(f"{request.method} {match.route}")
                current.set_attribute("http.route", match.route)
                current.set_attribute(SERVICE, _service_of(match))
            current.set_attribute("http.response.status_code", response.status_code)
            if response.status_code >= 500:
                current.set_status(Status(StatusCode.ERROR))
        return response


def _service_of(match) -> str:
    """The service a view belongs to: its app, or for a page that composes several (checkout) the URL's."""
    package = match.func.__module__.split(".")[0]
    if package in settings.SERVICES:
        return package
    segments = [s for s in match.route.split("/") if s]
    if segments[:1] == ["api"]:
        segments = segments[1:]
    return segments[0] if segments and segments[0] in settings.SERVICES else "web"
