"""The README's first command: ``bin/run-shop`` from a fresh clone serves the shop on the port the README gives.

The real run takes the shop's own virtualenv through ``SHOP_VENV`` (creating one and installing the shop into it
takes about half a minute here, on top of the shop's start) and a free port through ``SHOP_PORT``, so it never
takes 8000 from someone; that without ``SHOP_PORT`` the port is 8000 is checked in the same clone, and how that
port reaches the web process (runshop gives it to honcho, honcho to the Procfile's web as PORT) by the real run.
"""

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from django.core.management import call_command

from shopsite.bus.names import Names
from shopsite.management.commands import runshop
from tests.conftest import delete_topology
from tests.loopback import free_port, wait_for

ROOT = Path(__file__).resolve().parents[1]
#: The whole run, from the clone to the last process gone, on a busy 2-core machine.
BOUND = 240.0


@pytest.fixture
def honcho_started(monkeypatch):
    """Run ``runshop`` up to the point where it hands over to honcho; the arguments honcho got."""
    monkeypatch.setattr(runshop, "connect", lambda: type("Connection", (), {"close": lambda self: None})())
    monkeypatch.setattr(runshop, "call_command", lambda *args, **kwargs: None)
    execs = []
    monkeypatch.setattr(runshop.os, "execv", lambda path, argv: execs.append(argv))

    def start(*args: str) -> list[str]:
        call_command("runshop", *args)
        [argv] = execs[-1:]
        return argv

    return start


def port_given(argv: list[str]) -> int:
    assert argv[argv.index("start") + 1] == "--port"
    return int(argv[argv.index("start") + 2])


def test_runshop_gives_honcho_the_port_of_shop_port(honcho_started, settings):
    settings.SHOP_PORT = 8000
    assert port_given(honcho_started()) == 8000
    settings.SHOP_PORT = 8123
    assert port_given(honcho_started()) == 8123
    assert port_given(honcho_started("--port", "8200")) == 8200


def descendants(pid: int) -> set[int]:
    """Every live process under ``pid`` (honcho starts each of its processes in a session of its own)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # gone meanwhile
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def clean_environment(**extra: str) -> dict[str, str]:
    """The environment of someone who has just cloned the shop: none of this test run's settings."""
    ours = ("BUS_", "DJANGO_", "SHOP_", "EMAIL_", "DEMO_", "DATABASE", "PYTEST", "VIRTUAL_ENV")
    environment = {k: v for k, v in os.environ.items()
                   if not k.startswith(ours) and not k.endswith("_DATABASE_URL") and k != "PORT"}
    return {**environment, **extra}


@pytest.mark.broker
def test_bin_run_shop_serves_a_fresh_clone_on_its_port_and_ctrl_c_stops_every_process(tmp_path, broker):
    started = time.monotonic()
    clone = tmp_path / "shop"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True, timeout=120)
    venv = Path(sys.prefix)
    port = free_port()
    environment = clean_environment(SHOP_VENV=str(venv), SHOP_PORT=str(port), DEMO_PASSWORD="a-demo-password")
    log = tmp_path / "run-shop.log"
    with open(log, "wb") as out:
        shop = subprocess.Popen([str(clone / "bin" / "run-shop")], cwd=tmp_path, env=environment, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    processes: set[int] = set()
    try:
        def serving() -> bool:
            assert shop.poll() is None, f"bin/run-shop exited with {shop.returncode}:\n{log.read_text()[-3000:]}"
            try:
                return requests.get(f"http://127.0.0.1:{port}/", timeout=5).status_code == 200
            except requests.RequestException:
                return False

        wait_for(serving, timeout=BOUND - (time.monotonic() - started), interval=0.5,
                 what=f"bin/run-shop to serve on {port}")
        page = requests.get(f"http://127.0.0.1:{port}/", timeout=10)
        assert "Classic Mug" in page.text  # the demo catalog
        assert requests.get(f"http://127.0.0.1:{port}/healthz", timeout=10).json() == {"status": "ok"}
        processes = descendants(shop.pid) | {shop.pid}
        assert len(processes) >= 9  # honcho, the web (master and workers), the relay, six consumers
    finally:
        os.killpg(shop.pid, signal.SIGINT)  # Ctrl-C in its terminal
        try:
            wait_for(lambda: not any(alive(pid) for pid in processes | {shop.pid}), timeout=60, interval=0.2,
                     what="every process of bin/run-shop to exit")
        finally:
            left = [pid for pid in processes | {shop.pid} if alive(pid)]
            for pid in left:
                os.kill(pid, signal.SIGKILL)
            shop.wait(timeout=30)
            env_file = clone / ".env"
            deployment = re.search(r"^BUS_DEPLOYMENT=(.+)$", env_file.read_text() if env_file.exists() else "",
                                   re.MULTILINE)
            if deployment:
                delete_topology(Names(deployment.group(1)), [1.0, 5.0, 30.0])
    output = log.read_text()
    print(f"\nbin/run-shop served a fresh clone in {time.monotonic() - started:.0f} s (clone to every process gone)")

    assert not left, f"still running after Ctrl-C: {left}"
    assert deployment and re.fullmatch(r"shop-[0-9a-f]{8}", deployment.group(1))  # its own, in its own .env
    assert (clone / "var" / "db" / "orders.sqlite3").exists()  # its own data
    assert not (clone / ".venv").exists()  # SHOP_VENV was used as it is
    assert f"http://127.0.0.1:{port}" in output
    assert f"Listening at: http://127.0.0.1:{port}" in output  # gunicorn, told by honcho's PORT
    # The clone's code ran, not the code the virtualenv was installed from.
    imported = subprocess.run([str(venv / "bin" / "python"), "-c", "import shopsite; print(shopsite.__file__)"],
                              cwd=clone, env=clean_environment(), capture_output=True, text=True, timeout=60)
    assert imported.stdout.strip() == str(clone / "shopsite" / "__init__.py")
    # Without SHOP_PORT (and with the clone's fresh .env) the command resolves the README's port.
    resolved = subprocess.run(
        [str(venv / "bin" / "python"), "manage.py", "shell", "--no-imports", "-c",
         "from shopsite.management.commands.runshop import Command; "
         "print(Command().create_parser('manage.py', 'runshop').parse_args([]).port)"],
        cwd=clone, env=clean_environment(), capture_output=True, text=True, timeout=120)
    assert resolved.stdout.strip() == "8000", resolved.stderr
