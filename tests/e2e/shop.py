"""The whole shop as real processes: the web server, the relay and the six consumers."""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import uuid
from pathlib import Path

import requests

from tests.loopback import free_port, wait_for

ROOT = Path(__file__).resolve().parents[2]
E2E_ADDRESS = {"name": "Test Customer", "line1": "1 Test Street", "city": "Testville", "postal_code": "12345",
               "country": "DE"}
CONSUMERS = ["accounts", "catalog", "cart", "orders", "payments", "notifications"]


class PostgresDatabases:
    """One fresh database per service on 127.0.0.1:5432 (user postgres, trust), dropped afterwards.

    ``with PostgresDatabases("shop") as urls:`` gives the ``<SERVICE>_DATABASE_URL`` settings. With
    ``migrated=True`` each database is a copy of one this process migrated before (``CREATE DATABASE ... TEMPLATE``):
    a shop on them starts without migrating (``Shop.up``).
    """

    #: The databases made from migrated templates: ``Shop.up`` does not migrate them again.
    migrated_urls: set[str] = set()
    _templates: dict[str, str] | None = None
    _templates_lock = threading.Lock()

    def __init__(self, label: str, migrated: bool = False) -> None:
        run = uuid.uuid4().hex[:8]
        self.names = {service: f"{label}_{run}_{service}" for service in CONSUMERS}
        self.migrated = migrated

    @staticmethod
    def _psql(sql: str) -> None:
        subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-v", "ON_ERROR_STOP=1",
                        "-c", sql], check=True, capture_output=True, timeout=60)

    @staticmethod
    def urls(names: dict[str, str]) -> dict[str, str]:
        return {f"{service.upper()}_DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{name}"
                for service, name in names.items()}

    @classmethod
    def templates(cls) -> dict[str, str]:
        """The names of this process's migrated databases, one a service: made and migrated (``migrate_all``) on
        first use, dropped when the process ends."""
        with cls._templates_lock:
            if cls._templates is None:
                template = cls("template")
                template.__enter__()
                atexit.register(template.__exit__)
                workdir = Path(tempfile.mkdtemp(prefix="shop-template-"))
                try:
                    Shop(workdir, cls.urls(template.names)).manage("migrate_all")
                finally:
                    shutil.rmtree(workdir, ignore_errors=True)
                cls._templates = template.names
            return cls._templates

    def __enter__(self) -> dict[str, str]:
        templates = self.templates() if self.migrated else {}
        for service, name in self.names.items():
            # A template may have no other session: migrate_all has ended, and copies are made one at a time.
            self._psql(f"CREATE DATABASE {name} TEMPLATE {templates[service]}" if templates else
                       f"CREATE DATABASE {name}")
        urls = self.urls(self.names)
        if self.migrated:
            self.migrated_urls.update(urls.values())
        return urls

    def __exit__(self, *exc) -> None:
        for name in self.names.values():
            self._psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


#: SQLite databases migrated once per process and checkout (``migrate_all``), copied into each shop's data folder.
_MIGRATED_SQLITE: dict[Path, Path] = {}
_MIGRATED_SQLITE_LOCK = threading.Lock()


class Shop:
    def __init__(self, workdir: Path, extra_env: dict[str, str] | None = None, root: Path = ROOT) -> None:
        """A shop with its data in ``workdir``, run from the checkout in ``root`` (by default this one)."""
        self.workdir = workdir
        self.root = root
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.mail_dir = workdir / "mail"
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "shopsite.settings",
            "DJANGO_DEBUG": "false",
            "DJANGO_SSL_REDIRECT": "false", "DJANGO_SECURE_COOKIES": "false",  # plain http on loopback
            "DJANGO_SECRET_KEY": "e2e-" + uuid.uuid4().hex,
            "SHOP_DATA_DIR": str(workdir),
            "BUS_PREFIX": f"e2e-{uuid.uuid4().hex[:10]}",
            "BUS_RETRY_DELAYS": "0.2,0.5,1",
            "BUS_RELAY_INTERVAL": "0.5",
            "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "EMAIL_FILE_PATH": str(self.mail_dir),
            "SHOP_PUBLIC_URL": self.base_url,  # the images in emails
            "DJANGO_PASSWORD_HASHERS": "django.contrib.auth.hashers.MD5PasswordHasher",
            "PYTHONUNBUFFERED": "1",
            # Every test client comes from 127.0.0.1: far more sign-ups and checkouts than a person makes.
            "THROTTLE_LOGIN_RATE": "100000/minute", "THROTTLE_REGISTER_RATE": "100000/minute",
            "THROTTLE_CHECKOUT_RATE": "100000/minute",
            **(extra_env or {}),
        }
        self.processes: dict[str, subprocess.Popen] = {}
        self.http = requests.Session()

    # --- processes --------------------------------------------------------

    def manage(self, *args: str) -> str:
        result = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=self.root, env=self.env, capture_output=True, text=True, timeout=120
        )
        assert result.returncode == 0, f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
        return result.stdout

    def start(self, name: str, env: dict[str, str] | None = None, startup: str | None = None) -> None:
        """Start ``name``: web, relay, a service, or ``<service>#<n>`` for another copy of its consumer.

        ``startup``: a module of ``tests.rolling`` imported first, to run another release's contracts.
        """
        kind = name.split("#")[0]
        if kind == "web":
            command = ["-m", "gunicorn", "shopsite.wsgi", "--config", "python:shopsite.gunicorn_config",
                       "--bind", f"127.0.0.1:{self.port}", "--workers", "2", "--threads", "4", "--no-control-socket"]
        elif kind == "relay":
            command = ["manage.py", "relay"]
        else:
            command = ["manage.py", f"consume_{kind}"]
        if startup:
            command = ["-m", "tests.rolling.launch", f"tests.rolling.{startup}", *command]
        with open(self.workdir / f"{name}.log", "ab") as log:
            self.processes[name] = subprocess.Popen(
                [sys.executable, *command], cwd=self.root, env={**self.env, **(env or {})},
                stdout=log, stderr=subprocess.STDOUT,
            )

    def stop(self, name: str, sig: int = signal.SIGTERM, timeout: float = 20.0) -> int:
        process = self.processes.pop(name)
        process.send_signal(sig)
        return process.wait(timeout=timeout)

    def up(self, copies: int = 1, migrate: bool = True) -> Shop:
        """Start every process; ``migrate=False`` for databases already migrated (one Django start fewer)."""
        if migrate:
            self.migrate()
        self.manage("declare_topology")
        for name in ["web", "relay", *CONSUMERS]:
            self.start(name)
        for copy in range(2, copies + 1):
            for name in CONSUMERS:
                self.start(f"{name}#{copy}")
        self.wait_for_web()
        return self

    def migrate(self) -> None:
        """Every service's database migrated: on SQLite, a copy of the databases ``migrate_all`` made for the first
        shop this process ran from this checkout; on PostgreSQL made from migrated templates
        (``PostgresDatabases(migrated=True)``), nothing to do; otherwise ``migrate_all``."""
        urls = [self.env.get(f"{service.upper()}_DATABASE_URL") for service in CONSUMERS]
        if all(url in PostgresDatabases.migrated_urls for url in urls):
            return
        if any(urls) or any((self.workdir / "db").glob("*.sqlite3")):  # not all fresh: migrate what is there
            self.manage("migrate_all")
            return
        with _MIGRATED_SQLITE_LOCK:
            if self.root not in _MIGRATED_SQLITE:
                template = Path(tempfile.mkdtemp(prefix="shop-migrated-"))
                atexit.register(shutil.rmtree, template, ignore_errors=True)
                Shop(template, root=self.root).manage("migrate_all")
                _MIGRATED_SQLITE[self.root] = template / "db"
        shutil.copytree(_MIGRATED_SQLITE[self.root], self.workdir / "db", dirs_exist_ok=True)

    def wait_for_web(self) -> None:
        wait_for(self._web_answers, timeout=60, what="the web process")

    def _web_answers(self) -> bool:
        try:
            return self.http.get(f"{self.base_url}/api/catalog/products/", timeout=5).status_code == 200
        except requests.RequestException:  # not listening yet, or still loading
            return False

    def down(self) -> dict[str, int]:
        """Stop every process with SIGTERM; their exit codes.

        All are signalled first, then awaited: each finishes its current work on its own.
        """
        processes, self.processes = self.processes, {}
        for process in processes.values():
            process.send_signal(signal.SIGTERM)
        try:
            return {name: process.wait(timeout=20.0) for name, process in processes.items()}
        finally:  # one that did not stop in time fails the call, and is killed rather than left running
            for process in processes.values():
                if process.poll() is None:
                    process.kill()
                    process.wait()

    def log(self, name: str) -> str:
        return (self.workdir / f"{name}.log").read_text(errors="replace")

    def logs(self) -> str:
        return "".join(p.read_text(errors="replace") for p in sorted(self.workdir.glob("*.log")))

    # --- the API ----------------------------------------------------------

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    def call(self, method: str, path: str, token: str | None = None, **kwargs) -> requests.Response:
        headers = kwargs.pop("headers", {})
        if token:
            headers["Authorization"] = f"Token {token}"
        return self.http.request(method, self.url(path), headers=headers, timeout=10, **kwargs)

    def customer(self, password: str = "a-long-test-password") -> Customer:
        email = f"c-{uuid.uuid4().hex[:10]}@example.com"
        response = self.call("POST", "/api/accounts/register/", json={"email": email, "password": password, "name": "Casey"})
        assert response.status_code == 201, response.text
        token = self.call("POST", "/api/accounts/token/", json={"email": email, "password": password}).json()["token"]
        return Customer(self, email, token)

    def mails(self) -> list[str]:
        if not self.mail_dir.exists():
            return []
        return [p.read_text(errors="replace") for p in sorted(self.mail_dir.iterdir())]


class Customer:
    def __init__(self, shop: Shop, email: str, token: str) -> None:
        self.shop, self.email, self.token = shop, email, token

    def call(self, method: str, path: str, **kwargs) -> requests.Response:
        return self.shop.call(method, path, token=self.token, **kwargs)

    def get(self, path: str) -> dict:
        response = self.call("GET", path)
        assert response.status_code == 200, response.text
        return response.json()

    def add_to_cart(self, product_id: int, quantity: int) -> None:
        """Add once the cart service has heard of the product (its replica is fed by messages)."""

        def added():
            response = self.call("POST", "/api/cart/items/", json={"product_id": product_id, "quantity": quantity})
            assert response.status_code in (201, 404), response.text
            return response.status_code == 201

        wait_for(added, what=f"the cart to accept product {product_id}")

    def card(self, number: str) -> str:
        response = self.call(
            "POST", "/api/payments/methods/",
            json={"card_number": number, "exp_month": 12, "exp_year": 2031, "cvc": "123"},
        )
        assert response.status_code == 201, response.text
        return response.json()["id"]

    def checkout(self, payment_method_id: str, key: str | None = None) -> requests.Response:
        return self.call(
            "POST", "/api/cart/checkout/",
            json={"payment_method_id": payment_method_id, "shipping_address": E2E_ADDRESS},
            headers={"Idempotency-Key": key or uuid.uuid4().hex},
        )

    def order_when(self, order_id: str, statuses: set[str], timeout: float = 20.0) -> dict:
        def settled():
            response = self.call("GET", f"/api/orders/{order_id}/")
            if response.status_code == 404:  # not placed yet: the message is on its way
                return None
            order = response.json()
            return order if order["status"] in statuses else None

        return wait_for(settled, timeout=timeout, what=f"order {order_id} to reach {statuses}")
