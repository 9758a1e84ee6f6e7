"""Log lines as JSON objects (``LOG_FORMAT=json``), one a line, for a log collector to read.

Each line has a fixed set of fields (docs/operating.md, "Logs"). Nothing else a log call attaches
reaches the line: Django's request logging attaches the request, gunicorn's access log every request
header (the ``Authorization`` token and the session cookie among them), and a log shipper must not
receive either. So the formatter names its fields itself instead of dumping the record.
"""

from __future__ import annotations

import logging
import re
import sys
import threading
from datetime import datetime, timezone
from pathlib import Path

from opentelemetry import trace
from pythonjsonlogger.json import JsonFormatter as _LibraryJsonFormatter

from shopsite.bus import context

#: Which process this is: set by its entry point (``identify``), read by every line it logs.
_identity = {"service": None, "process": Path(sys.argv[0]).name if sys.argv and sys.argv[0] else "python"}

#: What an access line of gunicorn says about its request, by gunicorn's name for it (its ``access_log_format``
#: atoms). Only these: the atoms also hold every request header and the WSGI environment.
ACCESS_FIELDS = {"m": "method", "U": "path", "s": "status", "M": "duration_ms", "B": "bytes", "h": "remote_addr"}
#: A Django token in a URL (the password reset link's): its timestamp in base 36, a dash, 32 hex digits.
#: It opens the account until it is used or expires, so an access line shows it as [token].
URL_TOKEN = re.compile(r"\b[0-9a-z]{1,13}-[0-9a-f]{32}\b")


class HideUrlTokens(logging.Filter):
    """Gunicorn's own access lines (``LOG_FORMAT=keyvalue``) with every token in a URL written as [token].

    Gunicorn hands the line's values as one mapping (its atoms: the request line, the path, the query, the
    referer…); each text among them is rewritten before the line is formatted.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, dict):
            record.args = {name: URL_TOKEN.sub("[token]", value) if isinstance(value, str) else value
                           for name, value in record.args.items()}
        return True


def identify(*, service: str, process: str) -> None:
    """Name the service this process works for (a consumer's service, ``relay`` or ``web``) and the process."""
    _identity.update(service=service, process=process)


class JsonFormatter(_LibraryJsonFormatter):
    def __init__(self, **kwargs) -> None:
        # The exception, when there is one, as one string: a line stays one line.
        super().__init__(exc_info_as_array=False, **kwargs)

    def add_fields(self, log_data: dict, record: logging.LogRecord, message_dict: dict) -> None:
        log_data.update(
            timestamp=datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            level=record.levelname,
            logger=record.name,
            message=record.message,
            service=_identity["service"],
            process={"pid": record.process, "name": _identity["process"]},
        )
        envelope = context.current()
        if envelope is not None:
            log_data.update(correlation_id=str(envelope.correlation_id), message_type=envelope.type,
                            message_id=str(envelope.id))
        span = trace.get_current_span().get_span_context()
        if span.is_valid:  # never without a tracer: the current span is then the invalid one, at no cost
            log_data.update(trace_id=format(span.trace_id, "032x"), span_id=format(span.span_id, "016x"))
        if record.name == "gunicorn.access" and isinstance(record.args, dict):
            log_data["message"] = URL_TOKEN.sub("[token]", record.message)
            log_data["http"] = _access_fields(record.args)
        if message_dict.get("exc_info"):
            log_data["exception"] = message_dict["exc_info"]
        if message_dict.get("stack_info"):
            log_data["stack"] = message_dict["stack_info"]


def _access_fields(atoms: dict) -> dict:
    fields = {name: atoms[atom] for atom, name in ACCESS_FIELDS.items() if atom in atoms}
    if str(fields.get("status", "")).isdigit():  # gunicorn gives it as text
        fields["status"] = int(fields["status"])
    if isinstance(fields.get("path"), str):
        fields["path"] = URL_TOKEN.sub("[token]", fields["path"])
    return fields


def log_uncaught_exceptions() -> None:
    """A process that dies of an exception says why in a log line too, not only as a bare traceback."""
    log = logging.getLogger("shopsite.uncaught")
    previous_hook, previous_thread_hook = sys.excepthook, threading.excepthook

    def process_hook(kind, exc, tb):
        if not issubclass(kind, KeyboardInterrupt):
            log.critical("the process stops on an uncaught exception", exc_info=(kind, exc, tb))
        else:
            previous_hook(kind, exc, tb)

    def thread_hook(args):
        if args.exc_type is SystemExit:
            previous_thread_hook(args)
            return
        thread = args.thread.name if args.thread else "?"
        log.critical("thread %s stops on an uncaught exception", thread,
                     exc_info=(args.exc_type, args.exc_value, args.exc_traceback))

    sys.excepthook, threading.excepthook = process_hook, thread_hook
