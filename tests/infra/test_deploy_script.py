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
    assert f"GlueScriptKey=glue/{tag}/glue_load_to_dynamo.py" in deploy
    assert "--template-file dist/template.yaml" in deploy  # rendered: see the size and route tests
    order = [
        next(i for i, c in enumerate(commands) if c.startswith(p))
        for p in ("docker push", "aws s3 cp", ".venv/bin/python -m infra.render_template", "aws cloudformation deploy")
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


def deploy_command(done: subprocess.CompletedProcess[str]) -> str:
    (deploy,) = [line[2:] for line in done.stderr.splitlines() if line.startswith("+ aws cloudformation deploy")]
    return deploy


def test_the_template_goes_through_the_artifact_bucket_because_of_its_size(tmp_path) -> None:
    """CloudFormation refuses a template body over 51,200 bytes in the request; one in S3 may
    have up to 1 MB. The rendered template is over the first and under the second."""
    from infra.render_template import TEMPLATE_BODY_LIMIT, TEMPLATE_URL_LIMIT, main

    out = tmp_path / "template.yaml"
    assert main([str(out)]) == 0
    size = out.stat().st_size
    assert TEMPLATE_BODY_LIMIT < size <= TEMPLATE_URL_LIMIT
    deploy = deploy_command(dry_run("ap-southeast-3", "dev"))
    assert "--s3-bucket servicepipe-dev-artifacts-123456789012-ap-southeast-3" in deploy
    assert "--template-file dist/template.yaml" in deploy and "--template-body" not in deploy


def test_a_template_over_a_megabyte_is_refused_before_anything_is_deployed(tmp_path, monkeypatch, capsys) -> None:
    import infra.render_template as render_template

    big = tmp_path / "big.yaml"
    big.write_text(render_template.TEMPLATE.read_text() + "# " + "x" * 1_000_000 + "\n")
    monkeypatch.setattr(render_template, "TEMPLATE", big)
    assert render_template.main([str(tmp_path / "out.yaml")]) == 1
    assert not (tmp_path / "out.yaml").exists()
    assert (
        "over CloudFormation's 1,000,000 for a template in S3: split it into nested stacks" in capsys.readouterr().err
    )


def test_a_commit_already_in_ecr_is_deployed_without_a_build_or_a_push() -> None:
    """ECR tags are immutable: a rerun, or a rollback to an older commit, must not push again."""
    done = dry_run("ap-southeast-3", "dev", DRY_RUN_PUSHED="api processor")
    assert done.returncode == 0, done.stderr
    assert "docker build" not in done.stderr and "docker push" not in done.stderr
    assert done.stdout.count("is in ECR already: deploying it as it is") == 2
    deploy = deploy_command(done)
    assert "ApiImageUri=" in deploy and "ProcessorImageUri=" in deploy
    one = dry_run("ap-southeast-3", "dev", DRY_RUN_PUSHED="api")
    assert (
        [line for line in one.stderr.splitlines() if line.startswith("+ docker push")]
        == [
            line
            for line in one.stderr.splitlines()
            if line.startswith("+ docker push") and "servicepipe-processor:" in line
        ]
        != []
    )


def test_account_wide_and_quota_settings_are_passed_only_when_set() -> None:
    plain = deploy_command(dry_run("ap-southeast-3", "dev"))
    assert "ManageApiGatewayAccount=" not in plain and "ApiReservedConcurrency=" not in plain
    second = deploy_command(
        dry_run("ap-southeast-3", "staging", MANAGE_API_GATEWAY_ACCOUNT="false", API_RESERVED_CONCURRENCY="50")
    )
    assert "ManageApiGatewayAccount=false" in second and "ApiReservedConcurrency=50" in second


def test_a_review_creates_the_change_set_and_stops_before_executing_it(tmp_path) -> None:
    outputs = tmp_path / "github_output"
    done = dry_run("ap-southeast-3", "prod", REVIEW="1", GITHUB_OUTPUT=str(outputs))
    assert done.returncode == 0, done.stderr
    assert "--no-execute-changeset" in deploy_command(done)
    assert "+ aws cloudformation describe-change-set" in done.stderr
    assert "+ aws cloudformation describe-stacks" not in done.stderr  # nothing was deployed to show
    change_set = "arn:aws:cloudformation:ap-southeast-3:123456789012:changeSet/dry-run/0"
    assert outputs.read_text() == f"change_set={change_set}\n"
    assert f"once reviewed: infra/execute_change_set.sh ap-southeast-3 prod {change_set}" in done.stdout


def test_a_reviewed_change_set_is_executed_by_name() -> None:
    script = ROOT / "infra" / "execute_change_set.sh"
    environment = {**os.environ, "DRY_RUN": "1"}
    done = subprocess.run(
        ["bash", str(script), "ap-southeast-3", "prod", "arn:cs"], capture_output=True, text=True, env=environment
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines() == [
        "+ aws cloudformation execute-change-set --region ap-southeast-3 --stack-name servicepipe-prod "
        "--change-set-name arn:cs"
    ]
    wrong = subprocess.run(["bash", str(script), "ap-southeast-3"], capture_output=True, text=True, env=environment)
    assert wrong.returncode == 2 and wrong.stderr.startswith("usage: infra/execute_change_set.sh")


def test_layers_are_cached_in_a_repository_whose_tags_may_move() -> None:
    done = dry_run("ap-southeast-3", "dev", BUILD_CACHE="registry")
    builds = [line for line in done.stderr.splitlines() if line.startswith("+ docker buildx build")]
    assert len(builds) == 2 and all("servicepipe-build-cache:" in b and "mode=max" in b for b in builds)
    assert "--repository-names servicepipe-build-cache" in done.stderr  # created when missing, as below
    creates = "--repository-name servicepipe-build-cache \\\n                --image-tag-mutability MUTABLE"
    assert creates in SCRIPT.read_text()
