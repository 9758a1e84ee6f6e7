"""The Dockerfile passes hadolint, and its runtime stage is small, unprivileged and checked."""

from __future__ import annotations

import subprocess

from . import files


def hadolint(path) -> subprocess.CompletedProcess:
    return subprocess.run([files.tool("hadolint"), "--no-color", str(path)], capture_output=True, text=True, timeout=60)


def test_hadolint_finds_nothing():
    checked = hadolint(files.ROOT / "Dockerfile")
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_hadolint_finds_what_is_wrong(tmp_path):
    wrong = tmp_path / "Dockerfile"
    wrong.write_text("FROM python:latest\nRUN cd /app && pip install shop\nCMD gunicorn shopsite.wsgi\n")
    checked = hadolint(wrong)
    assert checked.returncode != 0 and "DL3007" in checked.stdout  # the :latest tag


def runtime_stage() -> list[tuple[str, str]]:
    instructions = files.dockerfile_instructions()
    last_from = max(at for at, (instruction, _) in enumerate(instructions) if instruction == "FROM")
    return instructions[last_from:]


def test_the_runtime_stage_has_no_compiler_and_runs_as_a_user_with_a_health_check():
    stage = runtime_stage()
    assert stage[0] == ("FROM", "python:3.11-slim")
    assert not any("apt-get install" in arguments for instruction, arguments in stage if instruction == "RUN")
    (user,) = [arguments for instruction, arguments in stage if instruction == "USER"]
    assert user.split(":")[0].isdigit() and int(user.split(":")[0]) > 0  # numeric: runAsNonRoot can verify it
    (health,) = [arguments for instruction, arguments in stage if instruction == "HEALTHCHECK"]
    assert '"manage.py", "healthcheck"' in health
    assert any("collectstatic" in arguments for instruction, arguments in stage if instruction == "RUN")


def test_the_build_context_leaves_out_what_the_image_does_not_need():
    ignored = set((files.ROOT / ".dockerignore").read_text().split())
    assert {".git", ".venv", ".env", "var", "tests", "docs", "test-artifacts"} <= ignored
