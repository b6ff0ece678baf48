"""infra/deploy.sh, dry run: what a deploy would do, in order, with commit-tagged images."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "infra" / "deploy.sh"


def dry_run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "DRY_RUN": "1", "VPC_ID": "vpc-1", "SUBNET_IDS": "subnet-1,subnet-2", **env}
    return subprocess.run(["bash", str(SCRIPT), *args], capture_output=True, text=True, env=environment, cwd=ROOT)


def test_a_deploy_builds_pushes_uploads_and_deploys_in_order() -> None:
    done = dry_run("ap-southeast-3", "dev")
    assert done.returncode == 0, done.stderr
    commit = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], capture_output=True, text=True, cwd=ROOT)
    tag = commit.stdout.strip()
    commands = [line[2:] for line in done.stderr.splitlines() if line.startswith("+ ")]
    pushes = [c for c in commands if c.startswith("docker push")]
    assert pushes == [
        f"docker push 123456789012.dkr.ecr.ap-southeast-3.amazonaws.com/servicepipe-{image}:{tag}"
        for image in ("api", "processor")
    ]
    (deploy,) = [c for c in commands if c.startswith("aws cloudformation deploy")]
    assert f"ProcessorImageUri=123456789012.dkr.ecr.ap-southeast-3.amazonaws.com/servicepipe-processor:{tag}" in deploy
    assert (
        f"GlueScriptKey=glue/{tag}/glue_load_to_dynamo.py" in deploy and "--template-file infra/template.yaml" in deploy
    )
    order = [
        next(i for i, c in enumerate(commands) if c.startswith(p))
        for p in ("docker push", "aws s3 cp", "aws cloudformation deploy")
    ]
    assert order == sorted(order)
    assert ":latest" not in done.stderr + done.stdout
    assert "dealers add DEALER_ID" in done.stdout  # how to issue the first dealer key


def test_mistakes_are_one_line_and_exit_2() -> None:
    assert dry_run().returncode == 2
    done = dry_run("ap-southeast-3", "Prod!")
    assert done.returncode == 2 and "ENVIRONMENT must be" in done.stderr
    done = dry_run("ap-southeast-3", "dev", VPC_ID="")
    assert done.returncode != 0 and "set VPC_ID" in done.stderr


def test_one_image_can_be_rolled_out_alone() -> None:
    done = dry_run("ap-southeast-3", "dev", IMAGES="processor")
    assert done.returncode == 0, done.stderr
    assert "servicepipe-api:" not in done.stderr  # the API keeps the tag it runs
    assert "ProcessorImageUri=" in done.stderr and "ApiImageUri=" not in done.stderr
