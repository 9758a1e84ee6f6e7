"""The JSON log lines (LOG_FORMAT=json): their fields, in a message's context, with an exception or a trace."""

import io
import os
import json
import logging
import subprocess
import sys
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from opentelemetry import trace

from shopsite import jsonlogs
from shopsite.bus import context
from shopsite.bus.envelope import Envelope


@pytest.fixture
def json_log(monkeypatch):
    """A logger writing through the JSON formatter; ``json_log.lines()`` parses what it wrote."""
    monkeypatch.setattr(jsonlogs, "_identity", {"service": None, "process": "pytest"})
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(jsonlogs.JsonFormatter())
    logger = logging.getLogger(f"tests.jsonlogs.{uuid.uuid4().hex}")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    logger.text = stream.getvalue
    logger.lines = lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    return logger


def test_a_line_is_one_json_object_with_the_fields_of_its_process(json_log):
    jsonlogs.identify(service="orders", process="consume_orders")
    before = datetime.now(timezone.utc)
    json_log.warning("stock of %s is low", "SKU-1")

    [line] = json_log.lines()
    assert line.keys() == {"timestamp", "level", "logger", "message", "service", "process"}
    assert before - timedelta(seconds=1) <= datetime.fromisoformat(line["timestamp"]) <= datetime.now(timezone.utc)
    assert line["timestamp"].endswith("+00:00")
    assert line["level"] == "WARNING"
    assert line["logger"] == json_log.name
    assert line["message"] == "stock of SKU-1 is low"
    assert line["service"] == "orders"
    assert line["process"]["name"] == "consume_orders"
    assert line["process"]["pid"] == os.getpid()


def test_a_line_logged_while_a_message_is_handled_names_the_message_and_its_flow(json_log):
    envelope = Envelope(type="payment.requested", version=1, producer="orders", payload={},
                        correlation_id=uuid.uuid4())
    with context.handling(envelope):
        json_log.info("charging")
    json_log.info("between messages")

    inside, outside = json_log.lines()
    assert inside["correlation_id"] == str(envelope.correlation_id)
    assert inside["message_type"] == "payment.requested"
    assert inside["message_id"] == str(envelope.id)
    assert not {"correlation_id", "message_type", "message_id"} & outside.keys()


def test_an_exception_is_one_string_field_of_its_one_line(json_log):
    try:
        raise ValueError("the gateway said no")
    except ValueError:
        json_log.exception("charge failed")

    assert len(json_log.text().splitlines()) == 1
    [line] = json_log.lines()
    assert line["message"] == "charge failed"
    assert isinstance(line["exception"], str)
    assert line["exception"].startswith("Traceback (most recent call last):")
    assert line["exception"].endswith("ValueError: the gateway said no")


def test_a_line_logged_inside_a_trace_names_the_trace(json_log):
    span_context = trace.SpanContext(trace_id=0x0AF7651916CD43DD8448EB211C80319C, span_id=0x00F067AA0BA902B7,
                                     is_remote=True, trace_flags=trace.TraceFlags(trace.TraceFlags.SAMPLED))
    with trace.use_span(trace.NonRecordingSpan(span_context)):
        json_log.info("in the trace")
    json_log.info("no trace")

    traced, untraced = json_log.lines()
    assert traced["trace_id"] == "0af7651916cd43dd8448eb211c80319c"
    assert traced["span_id"] == "00f067aa0ba902b7"
    assert "trace_id" not in untraced


def test_what_a_log_call_attaches_never_reaches_the_line(json_log):
    class Request:  # Django's request logging attaches the request
        def __repr__(self):
            return "<request with sessionid=SECRET-SESSION card_number=4242424242424242>"

        __str__ = __repr__

    json_log.warning("Bad Request: /api/payments/methods/", extra={"request": Request(), "status_code": 400})

    assert "SECRET" not in json_log.text() and "4242" not in json_log.text()
    [line] = json_log.lines()
    assert "request" not in line and "status_code" not in line


def test_an_access_line_has_the_request_fields_and_none_of_its_headers(json_log):
    # As gunicorn logs it: its atoms hold every request header and the WSGI environment.
    atoms = {"h": "10.0.0.7", "m": "POST", "U": "/api/cart/checkout/", "s": "202", "M": 41, "B": 57,
             "r": "POST /api/cart/checkout/ HTTP/1.1", "{authorization}i": "Token SECRET-TOKEN",
             "{cookie}i": "sessionid=SECRET-SESSION", "{http_authorization}e": "Token SECRET-TOKEN"}
    access = logging.getLogger("gunicorn.access")
    record = access.makeRecord("gunicorn.access", logging.INFO, __file__, 1, '%(h)s "%(r)s" %(s)s', (atoms,), None)
    json_log.handle(record)

    assert "SECRET" not in json_log.text()
    [line] = json_log.lines()
    assert line["logger"] == "gunicorn.access"
    assert line["message"] == '10.0.0.7 "POST /api/cart/checkout/ HTTP/1.1" 202'
    assert line["http"] == {"method": "POST", "path": "/api/cart/checkout/", "status": 202, "duration_ms": 41,
                            "bytes": 57, "remote_addr": "10.0.0.7"}


# --- the processes: LOG_FORMAT as they start -----------------------------------

ROOT = Path(__file__).resolve().parents[1]


def run(command: list[str], tmp_path, log_format: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "shopsite.settings", "DJANGO_DEBUG": "true",
           "SHOP_DATA_DIR": str(tmp_path), "BUS_DEPLOYMENT": "test-logs", "LOG_FORMAT": log_format}
    return subprocess.run([sys.executable, *command], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("command", [
    ["manage.py", "consume_orders"],
    ["-m", "gunicorn", "shopsite.wsgi", "--config", "python:shopsite.gunicorn_config", "--bind", "127.0.0.1:0"],
], ids=["consumer", "web"])
def test_an_unknown_log_format_stops_the_process_as_it_starts(command, tmp_path):
    result = run(command, tmp_path, log_format="xml")

    assert result.returncode != 0
    assert "LOG_FORMAT='xml' is not a log format: write keyvalue (the default) or json" in result.stderr


def test_a_process_that_dies_of_an_exception_says_why_in_a_json_line(tmp_path):
    result = run(["manage.py", "shell", "-c", "raise RuntimeError('the disk is full')"], tmp_path, log_format="json")

    assert result.returncode != 0
    [line] = [json.loads(line) for line in result.stderr.splitlines()]
    assert line["level"] == "CRITICAL"
    assert line["exception"].endswith("RuntimeError: the disk is full")


def test_an_access_line_hides_the_token_of_a_password_reset_link(json_log):
    from django.contrib.auth.tokens import default_token_generator

    class User:  # what the token generator reads of a user
        pk, password, last_login, email = 7, "pbkdf2$x", None, "c@example.com"

        def get_email_field_name(self):
            return "email"

    token = default_token_generator.make_token(User())
    path = f"/accounts/password/reset/Nw/{token}/"
    atoms = {"m": "GET", "U": path, "s": "302", "r": f"GET {path} HTTP/1.1"}
    access = logging.getLogger("gunicorn.access")
    json_log.handle(access.makeRecord("gunicorn.access", logging.INFO, __file__, 1, '"%(r)s" %(s)s', (atoms,), None))

    assert token not in json_log.text()
    [line] = json_log.lines()
    assert line["http"]["path"] == "/accounts/password/reset/Nw/[token]/"
    assert line["message"] == '"GET /accounts/password/reset/Nw/[token]/ HTTP/1.1" 302'
