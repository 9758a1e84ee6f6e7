"""The deployment files as the tests read them: the Procfile, the image, compose.yaml and the rendered manifests."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest
import yaml
from django.conf import settings

ROOT = settings.BASE_DIR
KUSTOMIZATION = ROOT / "deploy" / "k8s"


def tool(name: str) -> str:
    """A checking tool from the test extra (pyproject.toml): beside this Python, or on the PATH."""
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is missing: install the test extra (pip install -e '.[test]'), as bin/test does")
    return found


def procfile(path: Path = ROOT / "Procfile") -> dict[str, str]:
    processes = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, command = line.partition(":")
            processes[name.strip()] = command.strip()
    return processes


def compose(path: Path = ROOT / "compose.yaml") -> dict:
    return yaml.safe_load(path.read_text())


@cache
def rendered_manifests() -> tuple[dict, ...]:
    """``kubectl kustomize deploy/k8s``: every object, as Kubernetes would receive it."""
    rendered = subprocess.run([tool("kubectl"), "kustomize", str(KUSTOMIZATION)],
                              capture_output=True, text=True, timeout=60)
    assert rendered.returncode == 0, rendered.stderr
    return tuple(document for document in yaml.safe_load_all(rendered.stdout) if document)


def of_kind(kind: str, manifests=None) -> list[dict]:
    return [m for m in (manifests or rendered_manifests()) if m["kind"] == kind]


def dockerfile_instructions(path: Path = ROOT / "Dockerfile") -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, continuation lines joined and comments left out."""
    text = re.sub(r"\\\n", " ", "\n".join(
        line for line in path.read_text().splitlines() if not line.lstrip().startswith("#")))
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line.strip() else "")
            for line in text.splitlines() if line.strip()]


def dockerfile_environment(path: Path = ROOT / "Dockerfile") -> dict[str, str]:
    environment = {}
    for instruction, arguments in dockerfile_instructions(path):
        if instruction == "ENV":
            for word in shlex.split(arguments):
                name, _, value = word.partition("=")
                environment[name] = value
    return environment


def words(command: str | list[str]) -> list[str]:
    """A command as its words, with the forms that run the same thing made alike.

    ``sh -c "exec X"`` is X; ``python3 manage.py`` and ``python manage.py`` are
    ``manage.py`` (the interpreter is the image's or the virtualenv's).
    """
    command = shlex.split(command) if isinstance(command, str) else list(command)
    if command[:2] == ["sh", "-c"] and len(command) == 3:
        command = shlex.split(command[2])
    if command[:1] == ["exec"]:
        command = command[1:]
    if len(command) > 1 and command[0] in ("python", "python3") and command[1] == "manage.py":
        command = command[1:]
    return command


def in_container(procfile_command: str, environment: dict[str, str]) -> list[str]:
    """The Procfile's command as a container must run it: bound to every address, on its PORT.

    A process bound to 127.0.0.1 inside a container is out of reach of
    everything outside it (the probes, the Service, the proxy), so ``--bind``'s
    host becomes 0.0.0.0; ``${PORT:-8000}`` is what it means in that container's
    environment. Every other word stays as the Procfile has it.
    """
    command = resolved(words(procfile_command), environment)
    if "--bind" in command:
        at = command.index("--bind") + 1
        _, _, port = command[at].rpartition(":")
        command[at] = f"0.0.0.0:{port}"
    return command


def resolved(command: list[str], environment: dict[str, str]) -> list[str]:
    """A container's command with ${PORT:-N} (a shell's) and $(PORT) (Kubernetes') expanded."""
    def expand(word: str) -> str:
        word = re.sub(r"\$\{PORT:-(\d+)\}", lambda default: environment.get("PORT", default[1]), word)
        return re.sub(r"\$\(PORT\)", environment.get("PORT", ""), word)
    return [expand(word) for word in command]


def env_example_names(path: Path = ROOT / ".env.example") -> set[str]:
    """Every setting .env.example shows, set or commented out."""
    return set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", path.read_text(), flags=re.MULTILINE))
