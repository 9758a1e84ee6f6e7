"""deploy/k8s renders with kustomize into valid objects: probes, limits, a locked-down pod, KEDA on each queue.

The built-in kinds are validated by kubernetes-validate (Kubernetes' own
OpenAPI schemas, shipped in the package, strict: an unknown field is an
error). KEDA's ScaledObject and TriggerAuthentication are checked against
KEDA's CRD schemas as compiled in the npm package ``@kubernetes-models/keda``,
fetched into the user's cache on first use and never committed; without npm
that check is skipped on a developer's machine and fails in CI.
"""

from __future__ import annotations

import json
import subprocess

import yaml
from django.conf import settings

from shopsite.bus.names import Names
from tests.system_tools import npm_package

from . import files

KUBERNETES_VERSION = "1.33.0"
KEDA_KINDS = {"ScaledObject", "TriggerAuthentication"}
KEDA_PACKAGE, KEDA_VERSION = "@kubernetes-models/keda", "2.0.0"
PROCESSES = ["web", "relay", *settings.SERVICES]


def kubernetes_validate(manifests, tmp_path) -> subprocess.CompletedProcess:
    rendered = tmp_path / "rendered.yaml"
    rendered.write_text(yaml.safe_dump_all(manifests))
    return subprocess.run([files.tool("kubernetes-validate"), "--strict", "--quiet", "-k", KUBERNETES_VERSION,
                           str(rendered)], capture_output=True, text=True, timeout=120)


def test_the_built_in_kinds_are_valid_kubernetes(tmp_path):
    built_in = [m for m in files.rendered_manifests() if m["kind"] not in KEDA_KINDS]
    checked = kubernetes_validate(built_in, tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_kubernetes_validate_refuses_an_unknown_field(tmp_path):
    deployment = json.loads(json.dumps(files.of_kind("Deployment")[0]))
    deployment["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {"exec": {"command": ["true"]}}
    assert kubernetes_validate([deployment], tmp_path).returncode != 0


def keda_validation(manifests) -> subprocess.CompletedProcess:
    """KEDA's objects through the validators generated from its CRDs."""
    package = npm_package(KEDA_PACKAGE, KEDA_VERSION, what="KEDA's schemas", needs_node=True)
    script = package / "check-keda.mjs"
    if not script.exists():
        script.write_text(
            'import * as keda from "@kubernetes-models/keda/keda.sh/v1alpha1";\n'
            'let input = ""; for await (const chunk of process.stdin) input += chunk;\n'
            "let failed = 0;\n"
            "for (const object of JSON.parse(input)) {\n"
            "  try { new keda[object.kind](object).validate(); }\n"
            '  catch (error) { failed++; console.log(`${object.kind}/${object.metadata.name}: ${error.message}`); }\n'
            "}\n"
            "process.exit(failed ? 1 : 0);\n"
        )
    return subprocess.run(["node", str(script)], input=json.dumps(manifests), capture_output=True, text=True, timeout=60)


def test_the_keda_objects_are_valid_for_keda():
    keda = [m for m in files.rendered_manifests() if m["kind"] in KEDA_KINDS]
    assert {m["kind"] for m in keda} == KEDA_KINDS
    checked = keda_validation(keda)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_keda_validation_refuses_a_scaled_object_without_its_target():
    scaled = json.loads(json.dumps(files.of_kind("ScaledObject")[0]))
    del scaled["spec"]["scaleTargetRef"]
    checked = keda_validation([scaled])
    assert checked.returncode != 0 and "scaleTargetRef" in checked.stdout


def deployments() -> dict[str, dict]:
    return {d["metadata"]["name"].removeprefix("shop-"): d for d in files.of_kind("Deployment")}


def test_a_deployment_per_process_each_with_probes_resources_and_a_locked_down_pod():
    assert set(deployments()) == set(PROCESSES)
    for name, deployment in deployments().items():
        pod = deployment["spec"]["template"]["spec"]
        (container,) = pod["containers"]
        assert {"readinessProbe", "livenessProbe"} <= set(container), name
        assert container["resources"]["requests"] and container["resources"]["limits"]["memory"], name
        assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] != 0, name
        assert container["securityContext"]["readOnlyRootFilesystem"] is True, name
        assert container["securityContext"]["allowPrivilegeEscalation"] is False, name
        # What the process writes goes to a scratch volume: SHOP_DATA_DIR (the image's) and /tmp.
        scratch = {volume["name"] for volume in pod["volumes"] if "emptyDir" in volume}
        mounted = {mount["mountPath"] for mount in container["volumeMounts"] if mount["name"] in scratch}
        assert mounted == {"/var/lib/shop", "/tmp"}, name
        assert {"configMapRef", "secretRef"} == {key for source in container["envFrom"] for key in source}, name


def test_the_probes_ask_what_each_process_can_answer():
    web = deployments()["web"]["spec"]["template"]["spec"]["containers"][0]
    assert web["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert web["livenessProbe"]["httpGet"]["path"] == "/healthz"
    for name in ["relay", *settings.SERVICES]:
        container = deployments()[name]["spec"]["template"]["spec"]["containers"][0]
        assert container["readinessProbe"]["exec"]["command"] == ["python", "manage.py", "healthcheck", name]
        port = {env["name"]: env["value"] for env in container["env"]}["METRICS_PORT"]
        assert container["livenessProbe"]["httpGet"]["path"] == "/metrics"
        assert {p["name"]: p["containerPort"] for p in container["ports"]}[container["livenessProbe"]["httpGet"]["port"]] == int(port)


def test_every_deployment_has_a_disruption_budget_that_lets_a_node_drain():
    budgets = {b["metadata"]["name"]: b["spec"] for b in files.of_kind("PodDisruptionBudget")}
    for name, deployment in deployments().items():
        budget = budgets[deployment["metadata"]["name"]]
        assert budget["selector"] == deployment["spec"]["selector"]
        assert budget.get("maxUnavailable") == 1


def test_each_consumer_scales_on_its_own_queue_and_nothing_else_does():
    (configuration,) = files.of_kind("ConfigMap")
    names = Names(configuration["data"]["BUS_DEPLOYMENT"])  # BUS_PREFIX is the deployment's when unset
    assert "BUS_PREFIX" not in configuration["data"]
    (authentication,) = files.of_kind("TriggerAuthentication")
    scaled = {s["spec"]["scaleTargetRef"]["name"]: s["spec"] for s in files.of_kind("ScaledObject")}
    assert set(scaled) == {f"shop-{service}" for service in settings.SERVICES}
    for service in settings.SERVICES:
        spec = scaled[f"shop-{service}"]
        (trigger,) = spec["triggers"]
        assert trigger["type"] == "rabbitmq"
        assert trigger["metadata"]["queueName"] == names.queue(service)
        assert trigger["metadata"]["mode"] == "QueueLength" and int(trigger["metadata"]["value"]) > 0
        assert trigger["authenticationRef"]["name"] == authentication["metadata"]["name"]
        assert spec["minReplicaCount"] >= 1
        assert "replicas" not in deployments()[service]["spec"]  # KEDA owns the count
    assert [ref["parameter"] for ref in authentication["spec"]["secretTargetRef"]] == ["host"]


def test_the_web_has_a_service_and_migrations_run_in_a_job():
    (service,) = files.of_kind("Service")
    assert service["spec"]["selector"] == deployments()["web"]["spec"]["selector"]["matchLabels"]
    (job,) = files.of_kind("Job")
    (container,) = job["spec"]["template"]["spec"]["containers"]
    assert files.words(container["command"]) == ["manage.py", "migrate_all", "&&", "python", "manage.py", "declare_topology"]


def test_the_bus_is_pruned_daily_by_one_run_at_a_time():
    (cron,) = files.of_kind("CronJob")
    minute, hour, *every_day = cron["spec"]["schedule"].split()
    assert minute.isdigit() and hour.isdigit() and every_day == ["*", "*", "*"]
    assert cron["spec"]["concurrencyPolicy"] == "Forbid"
    pod = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert files.words(container["command"]) == ["manage.py", "prune_bus"]
    assert pod["securityContext"]["runAsNonRoot"] and container["securityContext"]["readOnlyRootFilesystem"]


def test_no_secret_is_committed():
    assert files.of_kind("Secret") == []
    (configuration,) = files.of_kind("ConfigMap")
    assert not {"DJANGO_SECRET_KEY", "BUS_URL", "EMAIL_URL"} & set(configuration["data"])
    assert not [name for name in configuration["data"] if name.endswith("_DATABASE_URL")]
