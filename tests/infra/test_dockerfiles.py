"""The two images' Dockerfiles: hadolint passes, and each installs the wheel and the lock only."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DOCKER = ROOT / "infra" / "docker"
HADOLINT = Path(sys.executable).parent / "hadolint"


@pytest.mark.parametrize("name", ["api.Dockerfile", "processor.Dockerfile"])
def test_hadolint_passes(name: str) -> None:
    done = subprocess.run([str(HADOLINT), "--no-color", str(DOCKER / name)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize(
    ("name", "lock"),
    [("api.Dockerfile", "requirements-api.lock"), ("processor.Dockerfile", "requirements-worker.lock")],
)
def test_the_final_image_gets_the_wheel_and_the_lock_only(name: str, lock: str) -> None:
    final_stage = (DOCKER / name).read_text().rsplit("\nFROM ", 1)[1]
    copies = [line.split()[1:] for line in final_stage.splitlines() if line.startswith("COPY")]
    assert copies == [[lock, "/tmp/requirements.lock"], ["--from=wheel", "/wheels", "/wheels"]]


def _pins(lock: str) -> dict[str, str]:
    lines = (ROOT / lock).read_text().splitlines()
    pins = [line.split(" ", 1)[0] for line in lines if "==" in line and not line.startswith("#")]
    return dict(pin.split("==", 1) for pin in pins)


LOCKS = sorted(p.name for p in ROOT.glob("requirements*.lock"))


@pytest.mark.parametrize("lock", LOCKS)
def test_every_pin_carries_the_hashes_of_its_files(lock: str) -> None:
    """pip then installs nothing that differs from what was locked (hash-checking mode)."""
    text = (ROOT / lock).read_text()
    pins = [block for block in text.split("\n") if re.match(r"^[A-Za-z0-9_.\[\],-]+==", block)]
    assert pins and len(pins) == len(_pins(lock))
    blocks = re.split(r"\n(?=[A-Za-z0-9])", text)
    for block in blocks:
        if "==" in block.split("\n", 1)[0] and not block.startswith("#"):
            assert "--hash=sha256:" in block, block.split("\n", 1)[0]


def test_the_worker_lock_leaves_the_web_stack_out_and_agrees_with_the_main_lock() -> None:
    worker, main = _pins("requirements-worker.lock"), _pins("requirements.lock")
    assert not {"fastapi", "starlette", "uvicorn", "mangum"} & set(worker)
    assert {"pandas", "pyarrow", "polars", "pandera", "boto3", "aws-lambda-powertools"} <= set(worker)
    assert all(main.get(name, version) == version for name, version in worker.items())


def test_the_api_lock_holds_no_data_library_and_agrees_with_the_main_lock() -> None:
    api, main = _pins("requirements-api.lock"), _pins("requirements.lock")
    assert not {"pandas", "pyarrow", "polars", "pandera", "numpy"} & set(api)
    assert {"fastapi", "mangum", "pydantic", "boto3", "orjson", "dependency-injector"} <= set(api)
    assert all(main.get(name, version) == version for name, version in api.items())


def test_the_worker_image_runs_as_a_user_not_root() -> None:
    text = (DOCKER / "processor.Dockerfile").read_text()
    assert "USER 10001" in text and 'ENTRYPOINT ["python", "-m", "entrypoints.worker.fargate"]' in text


def test_the_build_context_leaves_out_everything_but_the_package() -> None:
    ignored = (ROOT / ".dockerignore").read_text().splitlines()
    assert ignored[ignored.index("*") + 1 :][:1] == ["!pyproject.toml"]
    assert not any(line.startswith("!") and (".venv" in line or "tests" in line) for line in ignored)


BASE = re.compile(r"^FROM (?P<image>[^\s:@]+):(?P<tag>[^\s@]+)@sha256:(?P<digest>[0-9a-f]{64})(?: AS \w+)?$")
DOCKERFILES = sorted(DOCKER.glob("*.Dockerfile"))


@pytest.mark.parametrize("path", DOCKERFILES, ids=lambda p: p.name)
def test_every_base_image_is_pinned_by_tag_and_digest(path: Path) -> None:
    """The digest fixes the content (a pull by digest gets exactly it, or fails); the tag says
    what it is, for a reader and for Dependabot, which proposes the newest digest each week."""
    froms = [line for line in path.read_text().splitlines() if line.startswith("FROM ")]
    assert froms and all(BASE.match(line) for line in froms), froms
    # The Python the locks were compiled for (uv pip compile --python-version 3.11).
    assert all(BASE.match(line)["tag"].startswith("3.11") for line in froms), froms  # type: ignore[index]


def test_one_base_image_has_one_digest_across_the_images() -> None:
    digests: dict[str, set[str]] = {}
    for path in DOCKERFILES:
        for line in path.read_text().splitlines():
            if found := BASE.match(line):
                digests.setdefault(f"{found['image']}:{found['tag']}", set()).add(found["digest"])
    assert digests and all(len(found) == 1 for found in digests.values()), digests


def test_dependabot_watches_the_base_images_and_the_actions() -> None:
    config = yaml.safe_load((ROOT / ".github" / "dependabot.yml").read_text())
    watched = {(u["package-ecosystem"], u["directory"]) for u in config["updates"]}
    folders = {"/" + str(p.parent.relative_to(ROOT)) for p in DOCKERFILES}
    assert {("docker", folder) for folder in folders} | {("github-actions", "/")} <= watched
