import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_runshop_stops_at_once_and_says_how_to_start_a_missing_broker(tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "shopsite.settings",
        "DJANGO_DEBUG": "true",
        "SHOP_DATA_DIR": str(tmp_path),
        "BUS_URL": "amqp://someone:secret@127.0.0.1:1/%2F?connection_attempts=1&socket_timeout=2",
    }
    started = time.monotonic()
    result = subprocess.run([sys.executable, "manage.py", "runshop"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60)

    assert result.returncode != 0
    assert time.monotonic() - started < 15
    assert "RabbitMQ is not reachable at 127.0.0.1:1" in result.stderr
    assert "rabbitmq-server" in result.stderr
    assert "secret" not in result.stderr + result.stdout
