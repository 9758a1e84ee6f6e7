"""The benchmark's load generator (bench/end_to_end.py ``Load``) keeps a connection a client thread and replaces
one the server closed while it was idle, as an HTTP client does, instead of counting a refused checkout."""

import json
import socket
import socketserver
import threading
import uuid
from types import SimpleNamespace

import pytest

from bench.end_to_end import Load
from tests.loopback import free_port


class OneAnswerThenHangUp(socketserver.StreamRequestHandler):
    """Answers one checkout per connection, 202 and keep-alive as far as the client can tell, then closes it: what
    gunicorn does to a connection idle past its keep-alive."""

    def handle(self):
        headers = {}
        self.rfile.readline()
        while (line := self.rfile.readline().decode()) not in ("\r\n", ""):
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        self.rfile.read(int(headers.get("content-length", 0)))
        self.server.keys.append(headers["idempotency-key"])
        body = json.dumps({"order_id": str(uuid.uuid4())}).encode()
        self.wfile.write(b"HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\n"
                         b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        self.wfile.flush()
        self.connection.shutdown(socket.SHUT_RDWR)


@pytest.fixture
def server():
    port = free_port()
    with socketserver.ThreadingTCPServer(("127.0.0.1", port), OneAnswerThenHangUp) as server:
        server.keys = []
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        yield SimpleNamespace(port=port, keys=server.keys)
        server.shutdown()


def customers(count: int) -> list[dict]:
    return [{"method": str(uuid.uuid4()), "token": f"token-{n}"} for n in range(count)]


def test_a_connection_the_server_closed_is_replaced_and_the_checkout_sent_again(server):
    load = Load(SimpleNamespace(port=server.port), customers(3))

    for _ in range(3):  # one thread: each checkout after the first finds its kept connection closed
        load.checkout()

    assert (load.refused, dict(load.refusals)) == (0, {})
    assert len(load.sent) == 3
    # Every checkout reached the server once: the copy sent on the closed connection never arrived.
    assert len(server.keys) == len(set(server.keys)) == 3


def test_a_server_that_does_not_answer_a_new_connection_is_a_refusal_not_a_retry_without_end():
    load = Load(SimpleNamespace(port=free_port()), customers(1))  # nothing listens there

    load.checkout()

    assert load.refused == 1 and not load.sent
    [why] = load.refusals
    assert "ConnectionRefusedError" in why
