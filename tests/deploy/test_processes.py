"""Every Procfile process runs in compose.yaml and on Kubernetes with the same command, set up by known settings.

"The same command" means the same words once the forms that run the same thing
are made alike (``python manage.py X`` or ``sh -c "exec X"``: see
``files.words``), except the web's ``--bind``: inside a container it listens
on 0.0.0.0 (on 127.0.0.1 nothing outside the container could reach it), on
the port that ``${PORT:-8000}`` means in that container's environment
(``files.in_container``). The image's default command is the web's, the same way.
The Procfile is the reference: change a command there and these tests name
every file that still runs the old one.
"""

from __future__ import annotations

import json

from . import files

Containers = dict[str, tuple[list[str], dict[str, str]]]  # process -> (its command's words, its environment)


def mismatches(processes: dict[str, str], containers: Containers, where: str) -> list[str]:
    problems = []
    for name, command in processes.items():
        if name not in containers:
            problems.append(f"{where} does not run the Procfile's {name}")
            continue
        words, environment = containers[name]
        expected = files.in_container(command, environment)
        actual = files.resolved(files.words(words), environment)
        if actual != expected:
            problems.append(f"{where} runs {name} as {actual}, the Procfile as {expected}")
    return problems


def compose_processes() -> Containers:
    services = files.compose()["services"]
    return {name: (service["command"], {key: str(value) for key, value in (service.get("environment") or {}).items()})
            for name, service in services.items() if service.get("image") == "shop:local" and name != "migrate"}


def kubernetes_processes() -> Containers:
    settings = {key: value for config in files.of_kind("ConfigMap") for key, value in config["data"].items()}
    processes = {}
    for deployment in files.of_kind("Deployment"):
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        environment = {**settings, **{env["name"]: env["value"] for env in container.get("env", [])}}
        name = deployment["metadata"]["name"].removeprefix("shop-")
        processes[name] = (container.get("command", []) + container.get("args", []), environment)
    return processes


def image_default_process() -> Containers:
    (command,) = [json.loads(arguments) for instruction, arguments in files.dockerfile_instructions() if instruction == "CMD"]
    return {"web": (command, files.dockerfile_environment())}


def test_compose_runs_every_procfile_process_with_its_command():
    assert mismatches(files.procfile(), compose_processes(), "compose.yaml") == []


def test_kubernetes_runs_every_procfile_process_with_its_command():
    assert mismatches(files.procfile(), kubernetes_processes(), "deploy/k8s") == []


def test_the_image_runs_the_procfile_web_by_default():
    web = {"web": files.procfile()["web"]}
    assert mismatches(web, image_default_process(), "the Dockerfile's CMD") == []


def test_a_process_missing_or_changed_is_named():
    processes = {**files.procfile(), "search": "python manage.py consume_search"}
    processes["relay"] = "python manage.py relay --interval 5"
    processes["web"] = processes["web"].replace("--workers 2", "--workers 3")
    problems = mismatches(processes, compose_processes(), "compose.yaml")
    assert len(problems) == 3
    assert "compose.yaml does not run the Procfile's search" in problems
    assert any(problem.startswith("compose.yaml runs relay as") for problem in problems)
    assert any(problem.startswith("compose.yaml runs web as") and "'3'" in problem for problem in problems)


def test_the_web_must_listen_on_every_address_in_a_container():
    loopback = {"web": (files.words(files.procfile()["web"]), {"PORT": "8000"})}
    assert mismatches({"web": files.procfile()["web"]}, loopback, "a container") != []


def set_variables() -> dict[str, set[str]]:
    """The settings each file sets, by file (the images' own, like POSTGRES_PASSWORD, are theirs)."""
    shop_services = [service for service in files.compose()["services"].values() if service.get("image") == "shop:local"]
    kubernetes = {name for config in files.of_kind("ConfigMap") for name in config["data"]}
    for workload in files.of_kind("Deployment") + files.of_kind("Job"):
        for container in workload["spec"]["template"]["spec"]["containers"]:
            kubernetes |= {env["name"] for env in container.get("env", [])}
    python_runtime = {"PATH", "PYTHONUNBUFFERED", "PYTHONDONTWRITEBYTECODE"}
    return {
        "compose.yaml": {name for service in shop_services for name in service.get("environment") or {}},
        "deploy/k8s": kubernetes,
        "Dockerfile": set(files.dockerfile_environment()) - python_runtime,
    }


def test_every_variable_the_deployment_files_set_is_in_env_example():
    documented = files.env_example_names()
    undocumented = {where: sorted(names - documented) for where, names in set_variables().items() if names - documented}
    assert undocumented == {}


def test_env_example_names_read_commented_and_set_lines(tmp_path):
    example = tmp_path / ".env.example"
    example.write_text("# A comment, not a name: NOT_A_NAME\nDJANGO_DEBUG=true\n# BUS_URL=amqp://...\n#LOG_LEVEL=INFO\n")
    assert files.env_example_names(example) == {"DJANGO_DEBUG", "BUS_URL", "LOG_LEVEL"}
