"""compose.yaml is a valid compose file (``docker compose config``, no daemon needed) that starts things in order."""

from __future__ import annotations

import re
import subprocess
from urllib.parse import urlsplit

import yaml
from django.conf import settings

from . import files

REQUIRED = {"DJANGO_SECRET_KEY": "test", "BUS_DEPLOYMENT": "shop-0123abcd", "RABBITMQ_PASSWORD": "r",
            "POSTGRES_PASSWORD": "p"}


def compose_config(path, environment: dict[str, str]) -> subprocess.CompletedProcess:
    # Only the variables given: the caller's own (a developer's DJANGO_SECRET_KEY) must not fill a gap.
    return subprocess.run([files.tool("docker-compose"), "--file", str(path), "--project-directory", str(files.ROOT),
                           "config", "--quiet"], capture_output=True, text=True, timeout=60,
                          env={"PATH": "/usr/bin:/bin", "HOME": "/nonexistent", **environment})


def test_docker_compose_accepts_the_file():
    checked = compose_config(files.ROOT / "compose.yaml", REQUIRED)
    assert checked.returncode == 0, checked.stderr


def test_the_secrets_come_from_the_environment_never_from_the_file():
    for missing in REQUIRED:
        checked = compose_config(files.ROOT / "compose.yaml", {k: v for k, v in REQUIRED.items() if k != missing})
        assert checked.returncode != 0 and f"required variable {missing} is missing" in checked.stderr


def test_docker_compose_refuses_a_wrong_file(tmp_path):
    broken = files.compose()
    broken["services"]["web"]["depends_on"]["migrate"]["condition"] = "service_finished"
    (tmp_path / "compose.yaml").write_text(yaml.safe_dump(broken))
    assert compose_config(tmp_path / "compose.yaml", REQUIRED).returncode != 0


def shop_services() -> dict[str, dict]:
    return {name: service for name, service in files.compose()["services"].items() if service.get("image") == "shop:local"}


def test_every_process_waits_for_the_migrations_and_the_migrations_for_the_servers():
    services = shop_services()
    migrate = services.pop("migrate")
    assert files.words(migrate["command"]) == ["manage.py", "migrate_all", "&&", "python", "manage.py", "declare_topology"]
    assert migrate["depends_on"] == {"rabbitmq": {"condition": "service_healthy"},
                                     "postgres": {"condition": "service_healthy"}}
    for name, service in services.items():
        assert service["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}, name
    everything = files.compose()["services"]
    assert everything["rabbitmq"]["healthcheck"] and everything["postgres"]["healthcheck"]


def test_each_service_has_its_own_database_on_the_one_server():
    init = (files.ROOT / "deploy" / "compose" / "postgres" / "create-databases.sql").read_text()
    created = set(re.findall(r"^CREATE DATABASE (\w+);", init, flags=re.MULTILINE))
    for name, service in shop_services().items():
        urls = {key: urlsplit(re.sub(r"\$\{[^}]*\}", "password", value))  # the password is the environment's
                for key, value in service["environment"].items() if key.endswith("_DATABASE_URL")}
        assert set(urls) == {f"{s.upper()}_DATABASE_URL" for s in settings.SERVICES}, name
        assert {url.hostname for url in urls.values()} == {"postgres"}
        databases = {url.path.lstrip("/") for url in urls.values()}
        assert len(databases) == len(settings.SERVICES) and databases <= created | {"shop_accounts"}


def test_prometheus_scrapes_every_process_and_the_broker():
    config = yaml.safe_load((files.ROOT / "deploy" / "compose" / "prometheus.yml").read_text())
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert set(jobs) == {"shop-web", "shop-relay", "shop-consumer", "rabbitmq"}
    consumers = [name for sd in jobs["shop-consumer"]["dns_sd_configs"] for name in sd["names"]]
    assert consumers == settings.SERVICES
    assert {"source_labels": ["__meta_dns_name"], "target_label": "service"} in jobs["shop-consumer"]["relabel_configs"]
    services = shop_services()
    for job, process in [("shop-relay", "relay"), ("shop-consumer", "orders")]:
        (sd,) = jobs[job]["dns_sd_configs"]
        assert str(sd["port"]) == services[process]["environment"]["METRICS_PORT"]
    assert jobs["rabbitmq"]["static_configs"][0]["targets"] == ["rabbitmq:15692"]
    plugins = (files.ROOT / "deploy" / "compose" / "rabbitmq" / "enabled_plugins").read_text()
    assert "rabbitmq_prometheus" in plugins and "rabbitmq_management" in plugins
