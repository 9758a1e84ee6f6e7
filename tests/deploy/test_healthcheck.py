"""What the image's HEALTHCHECK and the Kubernetes probes ask: `manage.py healthcheck` and the web's probes."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.management import CommandError, call_command

from shopsite.bus.consumer import ready_file
from shopsite.health import container_process


@pytest.mark.django_db(databases="__all__")
def test_the_probes_answer_whatever_host_the_orchestrator_asks_by(client):
    # The kubelet asks by the pod's address, which is no allowed host; any other page still refuses it.
    assert client.get("/healthz", HTTP_HOST="10.1.2.3:8000").status_code == 200
    assert client.get("/readyz", HTTP_HOST="10.1.2.3:8000").status_code in (200, 503)
    assert client.get("/", HTTP_HOST="10.1.2.3:8000").status_code == 400


@pytest.mark.django_db(databases="__all__")
def test_prometheus_reads_the_web_metrics_by_the_pod_address_and_only_from_an_allowed_one(client):
    # Prometheus in Kubernetes scrapes a pod by its address: no allowed host either.
    scraped = client.get("/metrics", HTTP_HOST="10.1.2.3:8000", REMOTE_ADDR="127.0.0.1")
    assert scraped.status_code == 200 and b"shop_checkouts_total" in scraped.content
    assert client.get("/metrics", HTTP_HOST="10.1.2.3:8000", REMOTE_ADDR="10.9.9.9").status_code == 404


def a_dead_pid() -> int:
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(finished.stdout)


def test_a_consumer_is_healthy_while_a_live_process_holds_its_ready_file(settings, tmp_path):
    settings.BUS = {**settings.BUS, "READY_DIR": str(tmp_path)}
    with pytest.raises(CommandError, match="no orders consumer is consuming"):
        call_command("healthcheck", "orders")
    ready_file("orders", a_dead_pid()).write_text("left by a killed process\n")
    with pytest.raises(CommandError, match="no orders consumer is consuming"):
        call_command("healthcheck", "orders")
    ready_file("orders", os.getpid()).write_text("test.orders\nnode\n")
    call_command("healthcheck", "orders")
    with pytest.raises(CommandError, match="no cart consumer"):
        call_command("healthcheck", "cart")


@pytest.mark.django_db(databases="__all__")
def test_the_relay_is_unhealthy_without_the_broker(settings):
    settings.BUS = {**settings.BUS, "URL": "amqp://guest:guest@127.0.0.1:1/%2F?connection_attempts=1"}
    with pytest.raises(CommandError, match="the relay cannot reach broker"):
        call_command("healthcheck", "relay")


def test_the_web_is_healthy_when_its_port_answers_healthz(monkeypatch):
    class Healthz(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200 if self.path == "/healthz" else 404)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Healthz)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv("PORT", str(server.server_port))
        call_command("healthcheck", "web")
    finally:
        server.shutdown()
        server.server_close()
    with pytest.raises(CommandError, match="did not answer"):
        call_command("healthcheck", "web")


def test_without_a_name_the_process_is_the_containers_pid_1(tmp_path):
    cmdline = tmp_path / "cmdline"
    for command, process in [
        ("python\0manage.py\0consume_payments\0", "payments"),
        ("python\0manage.py\0relay\0", "relay"),
        ("/opt/venv/bin/python\0/opt/venv/bin/gunicorn\0shopsite.wsgi\0--bind\0" "0.0.0.0:8000\0", "web"),
        ("/bin/bash\0", None),
    ]:
        cmdline.write_text(command)
        assert container_process(cmdline) == process
    assert container_process(tmp_path / "missing") is None
