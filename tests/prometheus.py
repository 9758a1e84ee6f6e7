"""A real Prometheus (Debian's ``prometheus``) scraping a shop on loopback, for tests and bench/prometheus_graph.py.

It runs on a free port with a storage folder of its own, scrapes every second,
and is killed at the end: ``with Prometheus(workdir, shop_targets(shop, ports)) as prometheus:``.
The jobs are the ones docs/operating.md describes (shop-web, shop-relay,
shop-consumer with a ``service`` label per target, rabbitmq).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import requests
import yaml

from tests.e2e.shop import CONSUMERS, Shop
from tests.loopback import free_port, wait_for

ROOT = Path(__file__).resolve().parents[1]
ALERT_RULES = ROOT / "deploy" / "prometheus" / "alerts.yaml"
DASHBOARD = ROOT / "deploy" / "grafana" / "shop.json"
RABBITMQ_METRICS = "127.0.0.1:15692"


def up_with_metrics(shop: Shop) -> dict[str, int]:
    """Start ``shop`` (as ``Shop.up``) with the relay and each consumer serving metrics on a port of its own; the ports."""
    shop.migrate()
    shop.manage("declare_topology")
    ports = {name: free_port() for name in ["relay", *CONSUMERS]}
    shop.start("web")  # it serves /metrics itself
    for name, port in ports.items():
        shop.start(name, env={"METRICS_PORT": str(port)})
    shop.wait_for_web()
    return ports


def scrape_jobs(shop: Shop, ports: dict[str, int], rabbitmq: str | None = RABBITMQ_METRICS) -> list:
    """The scrape jobs for ``shop`` with the metrics ports of ``up_with_metrics``."""
    consumers = {name: f"127.0.0.1:{port}" for name, port in ports.items() if name != "relay"}
    return shop_targets(f"127.0.0.1:{shop.port}", f"127.0.0.1:{ports['relay']}", consumers, rabbitmq)


def shop_targets(web: str, relay: str, consumers: dict[str, str], rabbitmq: str | None = RABBITMQ_METRICS) -> list:
    """The scrape jobs for a shop whose web is at ``web`` (host:port), relay and consumers on their METRICS_PORTs."""
    jobs = [
        {"job_name": "shop-web", "static_configs": [{"targets": [web]}]},
        {"job_name": "shop-relay", "static_configs": [{"targets": [relay]}]},
        # The target's ``service`` label names the consumer on process_* and up too; the
        # shop_* metrics carry the same label themselves (honor_labels keeps theirs as it is).
        {"job_name": "shop-consumer", "honor_labels": True,
         "static_configs": [{"targets": [address], "labels": {"service": service}}
                            for service, address in consumers.items()]},
    ]
    if rabbitmq:
        # Per queue (rabbitmq_queue_messages_ready{queue=...}), not the node's totals of /metrics.
        jobs.append({"job_name": "rabbitmq", "metrics_path": "/metrics/per-object",
                     "static_configs": [{"targets": [rabbitmq]}]})
    return jobs


class PromQLError(AssertionError):
    pass


class Prometheus:
    def __init__(self, workdir: Path, jobs: list, *, rule_files: list[Path] = (), interval: str = "1s") -> None:
        self.workdir = workdir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.config = workdir / "prometheus.yml"
        self.config.write_text(yaml.safe_dump({
            "global": {"scrape_interval": interval, "scrape_timeout": interval, "evaluation_interval": interval},
            "rule_files": [str(path) for path in rule_files],
            "scrape_configs": jobs,
        }))
        self.targets = sum(len(config["targets"]) for job in jobs for config in job["static_configs"])
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> Prometheus:
        binary = shutil.which("prometheus")
        assert binary, "Prometheus is not installed: sudo apt-get install prometheus (bin/test does it as root)"
        with open(self.workdir / "prometheus.log", "ab") as log:
            self.process = subprocess.Popen(
                [binary, f"--config.file={self.config}", f"--storage.tsdb.path={self.workdir / 'tsdb'}",
                 f"--web.listen-address=127.0.0.1:{self.port}", "--log.level=warn"],
                stdout=log, stderr=subprocess.STDOUT,
            )
        wait_for(self._ready, timeout=30, what="Prometheus to start")
        return self

    def __exit__(self, *exc) -> None:
        self.process.kill()
        self.process.wait(timeout=10)

    def _ready(self) -> bool:
        assert self.process.poll() is None, f"Prometheus exited:\n{self.log()}"
        try:
            return requests.get(f"{self.url}/-/ready", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    def log(self) -> str:
        return (self.workdir / "prometheus.log").read_text(errors="replace")

    def api(self, path: str, **params) -> dict | list:
        answer = requests.get(f"{self.url}/api/v1/{path}", params=params, timeout=10)
        body = answer.json()
        if body.get("status") != "success":
            raise PromQLError(f"{path} {params}: {body.get('errorType')}: {body.get('error')}")
        return body["data"]

    def query(self, expr: str) -> list[dict]:
        """The instant vector (or scalar) ``expr`` gives now; a PromQLError if Prometheus refuses it."""
        data = self.api("query", query=expr)
        return data["result"] if data["resultType"] == "vector" else [{"metric": {}, "value": data["result"]}]

    def value(self, expr: str) -> float | None:
        """The one value of ``expr`` (None: no series)."""
        result = self.query(expr)
        assert len(result) <= 1, f"{expr} gives {len(result)} series"
        return float(result[0]["value"][1]) if result else None

    def wait_for_value(self, expr: str, expected: float, timeout: float = 30.0) -> None:
        wait_for(lambda: self.value(expr) == expected, timeout=timeout, interval=0.5,
                 what=f"{expr} == {expected} (last: {self.value(expr)})")

    def targets_up(self) -> dict[str, str]:
        return {target["scrapeUrl"]: target["health"] for target in self.api("targets")["activeTargets"]}


# --- the expressions of the alert rules and the dashboard ---------------------------------

#: Grafana's variables, as a query of the dashboard would have them filled in.
GRAFANA_INTERVALS = re.compile(r"\$__(rate_)?interval|\$\{__(rate_)?interval\}|\$__range|\$\{__range\}")
GRAFANA_VARIABLES = re.compile(r"\$\{(\w+)(:\w+)?\}|\$(\w+)|\[\[(\w+)\]\]")


def alert_expressions(path: Path = ALERT_RULES) -> list[str]:
    """Every ``expr`` of a Prometheus rules file (alerting and recording rules); none if the file is absent."""
    if not path.exists():
        return []
    rules = yaml.safe_load(path.read_text()) or {}
    return [rule["expr"] for group in rules.get("groups", []) for rule in group.get("rules", [])]


def dashboard_expressions(path: Path = DASHBOARD) -> list[str]:
    """Every ``expr`` of a Grafana dashboard (panels, rows' panels, templating queries), its variables filled in."""
    if not path.exists():
        return []
    found: list[str] = []

    def walk(node) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "expr" and isinstance(value, str) and value.strip():
                    found.append(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(json.loads(path.read_text()))
    return [grafana_filled(expr) for expr in found]


def grafana_filled(expr: str) -> str:
    """``expr`` with Grafana's interval variables as 1m and every other variable as ``.*`` (matches any value)."""
    return GRAFANA_VARIABLES.sub(".*", GRAFANA_INTERVALS.sub("1m", expr))
