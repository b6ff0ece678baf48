"""The delivery pipeline (.github/workflows/): one workflow; the tests once per push; both images
to dev, then prod behind a reviewed change set; OIDC only; every action pinned by commit."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

WORKFLOWS = Path(__file__).resolve().parents[2] / ".github" / "workflows"
BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def workflow() -> dict:
    loaded = yaml.safe_load((WORKFLOWS / "delivery.yml").read_text())
    loaded["on"] = loaded.pop(True, loaded.get("on"))  # YAML 1.1 reads the key `on` as True
    return loaded


def runs(job: dict) -> list[str]:
    return [step["run"] for step in job["steps"] if "run" in step]


def test_one_workflow_and_the_suite_runs_once_per_push() -> None:
    assert [p.name for p in sorted(WORKFLOWS.glob("*.y*ml"))] == ["delivery.yml"]
    text = (WORKFLOWS / "delivery.yml").read_text()
    assert text.count("run: make test") == 1


def test_tests_and_audit_run_on_every_push_and_pull_request(workflow) -> None:
    assert set(workflow["on"]) == {"push", "pull_request"}
    assert "paths" not in (workflow["on"]["push"] or {})  # every change to main is delivered
    assert runs(workflow["jobs"]["test"]) == ["make test", "make audit"]


def test_dev_then_a_reviewed_change_set_then_prod(workflow) -> None:
    jobs = workflow["jobs"]
    assert list(jobs) == ["test", "dev", "prod-change-set", "prod"]
    assert (jobs["dev"]["needs"], jobs["prod-change-set"]["needs"], jobs["prod"]["needs"]) == (
        "test",
        "dev",
        "prod-change-set",
    )
    assert jobs["dev"]["if"] == "github.event_name == 'push' && github.ref == 'refs/heads/main'"
    assert [jobs[name]["environment"] for name in ("dev", "prod-change-set", "prod")] == [
        "dev",
        "prod-change-set",
        "prod",
    ]
    (dev,) = [s for s in jobs["dev"]["steps"] if "deploy.sh" in s.get("run", "")]
    assert "IMAGES" not in dev.get("env", {})  # both images, every time
    (review,) = [s for s in jobs["prod-change-set"]["steps"] if "deploy.sh" in s.get("run", "")]
    assert review["env"]["REVIEW"] == "1" and review["id"] == "review"
    assert jobs["prod-change-set"]["outputs"]["change_set"] == "${{ steps.review.outputs.change_set }}"
    assert runs(jobs["prod"]) == ['infra/execute_change_set.sh "${{ vars.AWS_REGION }}" prod "$CHANGE_SET"']


def test_deploys_wait_for_each_other_and_use_oidc_only(workflow) -> None:
    assert workflow["concurrency"]["cancel-in-progress"] is False
    text = (WORKFLOWS / "delivery.yml").read_text()
    assert "aws-access-key-id" not in text and "AWS_SECRET_ACCESS_KEY" not in text and ":latest" not in text
    for name in ("dev", "prod-change-set", "prod"):
        job = workflow["jobs"][name]
        assert job["permissions"]["id-token"] == "write"
        (credentials,) = [s for s in job["steps"] if s.get("uses", "").startswith("aws-actions/configure-aws")]
        assert credentials["with"]["role-to-assume"] == "${{ vars.DEPLOY_ROLE_ARN }}"
    assert workflow["permissions"] == {"contents": "read"}


def test_every_action_is_pinned_by_commit_with_its_tag_named() -> None:
    lines = [line for line in (WORKFLOWS / "delivery.yml").read_text().splitlines() if "uses:" in line]
    assert lines
    for line in lines:
        assert re.search(r"uses: [\w.-]+/[\w.-]+@[0-9a-f]{40}  # v\d+\.\d+\.\d+$", line), line


def test_pip_and_docker_layers_are_cached(workflow) -> None:
    for name in ("test", "dev", "prod-change-set"):
        (python,) = [s for s in workflow["jobs"][name]["steps"] if s.get("uses", "").startswith("actions/setup-python")]
        assert python["with"]["cache"] == "pip" and python["with"]["cache-dependency-path"] == "requirements*.lock"
    assert workflow["env"]["BUILD_CACHE"] == "registry"


def shellcheck(script: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "step.sh"
    # GitHub substitutes ${{ }} before bash runs the step: a plain word stands in for it.
    path.write_text("#!/usr/bin/env bash\nset -e\n" + re.sub(r"\$\{\{[^}]*\}\}", "value", script))
    return subprocess.run([str(BIN / "shellcheck"), str(path)], capture_output=True, text=True)


def test_every_run_step_passes_shellcheck(workflow, tmp_path) -> None:
    """What actionlint does for `run:` steps; actionlint itself has no package that installs
    offline (PyPI's builds by downloading from GitHub), so shellcheck's wheel does this part
    and check-jsonschema (`make lint`) checks the workflow against GitHub's schema."""
    scripts = [step["run"] for job in workflow["jobs"].values() for step in job["steps"] if "run" in step]
    assert scripts
    for script in scripts:
        done = shellcheck(script, tmp_path)
        assert done.returncode == 0, script + "\n" + done.stdout
    assert shellcheck("rm -rf $STACK/*", tmp_path).returncode != 0  # it does find the classic mistakes
