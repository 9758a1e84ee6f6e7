import os
import re
import shutil
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


def first_run(install: Path) -> str:
    """What bin/run-shop does before anything reads the settings, in ``install``; the deployment written."""
    environment = {k: v for k, v in os.environ.items() if k != "BUS_DEPLOYMENT"}
    subprocess.run([sys.executable, "-m", "shopsite.envfile"], cwd=install, check=True, timeout=60,
                   env={**environment, "PYTHONPATH": str(ROOT)})
    return re.search(r"^BUS_DEPLOYMENT=(.+)$", (install / ".env").read_text(), re.MULTILINE).group(1)


def test_the_first_run_gives_each_installation_a_deployment_of_its_own(tmp_path):
    installs = [tmp_path / "one", tmp_path / "two"]
    for install in installs:
        install.mkdir()
        shutil.copyfile(ROOT / ".env.example", install / ".env.example")

    first = [first_run(install) for install in installs]
    again = [first_run(install) for install in installs]

    assert first[0] != first[1]
    assert again == first  # written once, then kept
    assert all(re.fullmatch(r"shop-[0-9a-f]{8}", deployment) for deployment in first)
    env = (installs[0] / ".env").read_text()
    assert env.startswith((ROOT / ".env.example").read_text())
    assert len(re.findall(r"^BUS_DEPLOYMENT=", env, re.MULTILINE)) == 1


def test_the_first_run_keeps_an_existing_env_and_adds_the_deployment_it_lacks(tmp_path):
    (tmp_path / ".env.example").write_text("DJANGO_DEBUG=true\n")
    (tmp_path / ".env").write_text("DJANGO_DEBUG=true\nBUS_URL=amqp://mine")

    deployment = first_run(tmp_path)

    assert (tmp_path / ".env").read_text().startswith("DJANGO_DEBUG=true\nBUS_URL=amqp://mine\n")
    assert deployment.startswith("shop-")
