"""The CI/CD workflows: tests on every push, deploys gated on them, OIDC and commit tags only."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

WORKFLOWS = Path(__file__).resolve().parents[2] / ".github" / "workflows"


def load(name: str) -> dict:
    workflow = yaml.safe_load((WORKFLOWS / name).read_text())
    workflow["on"] = workflow.pop(True, workflow.get("on"))  # YAML 1.1 reads the key `on` as True
    return workflow


def test_the_tests_run_on_every_push_and_pull_request() -> None:
    workflow = load("test.yml")
    assert {"push", "pull_request", "workflow_call"} <= set(workflow["on"])
    assert [step.get("run") for step in workflow["jobs"]["test"]["steps"]][-1] == "make test"


@pytest.mark.parametrize("part", ["api", "processor"])
def test_deploys_are_gated_on_the_tests_and_use_oidc(part: str) -> None:
    workflow = load(f"deploy-{part}.yml")
    assert workflow["on"]["push"]["branches"] == ["main"]
    assert f"infra/docker/{part}.Dockerfile" in workflow["on"]["push"]["paths"]
    assert workflow["permissions"]["id-token"] == "write"
    deploy = workflow["jobs"]["deploy"]
    assert deploy["needs"] == "test" and workflow["jobs"]["test"]["uses"] == "./.github/workflows/test.yml"
    (credentials,) = [
        s for s in deploy["steps"] if s.get("uses", "").startswith("aws-actions/configure-aws-credentials")
    ]
    assert "role-to-assume" in credentials["with"]
    text = (WORKFLOWS / f"deploy-{part}.yml").read_text()
    assert "aws-access-key-id" not in text and "AWS_SECRET_ACCESS_KEY" not in text and ":latest" not in text
    (run,) = [s for s in deploy["steps"] if "deploy.sh" in s.get("run", "")]
    assert run["env"]["IMAGES"] == part
