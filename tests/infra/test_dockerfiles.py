"""The two images' Dockerfiles: hadolint passes, and each installs the wheel and the lock only."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCKER = ROOT / "infra" / "docker"
HADOLINT = Path(sys.executable).parent / "hadolint"


@pytest.mark.parametrize("name", ["api.Dockerfile", "processor.Dockerfile"])
def test_hadolint_passes(name: str) -> None:
    done = subprocess.run([str(HADOLINT), "--no-color", str(DOCKER / name)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("name", ["api.Dockerfile", "processor.Dockerfile"])
def test_the_final_image_gets_the_wheel_and_the_lock_only(name: str) -> None:
    final_stage = (DOCKER / name).read_text().rsplit("\nFROM ", 1)[1]
    copies = [line.split()[1:] for line in final_stage.splitlines() if line.startswith("COPY")]
    assert copies == [["requirements.lock", "/tmp/requirements.lock"], ["--from=wheel", "/wheels", "/wheels"]]


def test_the_worker_image_runs_as_a_user_not_root() -> None:
    text = (DOCKER / "processor.Dockerfile").read_text()
    assert "USER 10001" in text and 'ENTRYPOINT ["python", "-m", "entrypoints.fargate_worker"]' in text


def test_the_build_context_leaves_out_everything_but_the_package() -> None:
    ignored = (ROOT / ".dockerignore").read_text().splitlines()
    assert ignored[ignored.index("*") + 1 :][:1] == ["!pyproject.toml"]
    assert not any(line.startswith("!") and (".venv" in line or "tests" in line) for line in ignored)
