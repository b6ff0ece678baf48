"""infra/bootstrap.yaml: GitHub's OIDC provider and the deploy role, held to what the delivery
workflow does. Checked by AWS's rules (tests/iam_policy.py), which moto does not enforce: the
role may be assumed only by the repository's jobs in one GitHub environment, and allows every
call infra/deploy.sh and infra/execute_change_set.sh make."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from cfnlint.decode import cfn_yaml

from adapters.aws.iam_actions import Grant, Place
from tests.iam_policy import Names, allows, statements_of

ROOT = Path(__file__).resolve().parents[2]
BOOTSTRAP = ROOT / "infra" / "bootstrap.yaml"
TEMPLATE = ROOT / "infra" / "template.yaml"
PLACE = Place(region="ap-southeast-3", account="123456789012")
ARTIFACTS = "servicepipe-dev-artifacts-123456789012-ap-southeast-3"
STACK = "arn:aws:cloudformation:ap-southeast-3:123456789012:stack/servicepipe-dev/1"
CFN_ROLE = "arn:aws:iam::123456789012:role/servicepipe-cloudformation-dev"
REPOSITORY = "arn:aws:ecr:ap-southeast-3:123456789012:repository/"
PUSH = (
    "ecr:BatchCheckLayerAvailability",
    "ecr:InitiateLayerUpload",
    "ecr:UploadLayerPart",
    "ecr:CompleteLayerUpload",
    "ecr:PutImage",
    "ecr:BatchGetImage",
    "ecr:GetDownloadUrlForLayer",
)

# What each command the scripts run asks of IAM (the Service Authorization Reference; the
# CLI's `deploy` is CreateChangeSet, waits on DescribeChangeSet, uploads the template, executes).
COMMANDS: dict[str, list[tuple[str, str]]] = {
    "aws ecr get-login-password": [("ecr:GetAuthorizationToken", "*")],
    "aws ecr describe-repositories": [("ecr:DescribeRepositories", REPOSITORY + "{repository}")],
    "aws ecr create-repository": [("ecr:CreateRepository", REPOSITORY + "{repository}")],
    "aws ecr describe-images": [("ecr:DescribeImages", REPOSITORY + "{repository}")],
    "docker push": [(action, REPOSITORY + "{repository}") for action in PUSH],
    "docker buildx": [(action, REPOSITORY + "servicepipe-build-cache") for action in PUSH],
    "aws s3api head-bucket": [("s3:ListBucket", f"arn:aws:s3:::{ARTIFACTS}")],
    "aws s3 mb": [("s3:CreateBucket", f"arn:aws:s3:::{ARTIFACTS}")],
    "aws s3 cp": [("s3:PutObject", f"arn:aws:s3:::{ARTIFACTS}/glue/x")],
    "aws cloudformation deploy": [
        ("s3:PutObject", f"arn:aws:s3:::{ARTIFACTS}/cloudformation/x"),
        ("s3:GetObject", f"arn:aws:s3:::{ARTIFACTS}/cloudformation/x"),
        ("cloudformation:GetTemplateSummary", STACK),
        ("cloudformation:DescribeStacks", STACK),
        ("cloudformation:CreateChangeSet", STACK),
        ("cloudformation:DescribeChangeSet", STACK),
        ("cloudformation:ExecuteChangeSet", STACK),
        ("cloudformation:DescribeStackEvents", STACK),
        ("iam:PassRole", CFN_ROLE),
    ],
    "aws cloudformation describe-stacks": [("cloudformation:DescribeStacks", STACK)],
    "aws cloudformation list-change-sets": [("cloudformation:ListChangeSets", STACK)],
    "aws cloudformation describe-change-set": [("cloudformation:DescribeChangeSet", STACK)],
    "aws cloudformation execute-change-set": [("cloudformation:ExecuteChangeSet", STACK)],
}
NEEDS_NOTHING = ("docker login", "docker build", ".venv/bin/python")


@pytest.fixture(scope="module")
def bootstrap() -> dict[str, Any]:
    return dict(cfn_yaml.load(str(BOOTSTRAP)))


def test_cfn_lint_passes() -> None:
    import sys

    done = subprocess.run(
        [str(Path(sys.executable).parent / "cfn-lint"), str(BOOTSTRAP)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_only_the_repositorys_jobs_in_one_environment_may_assume_the_deploy_role(bootstrap) -> None:
    (trust,) = bootstrap["Resources"]["DeployRole"]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert set(trust["Condition"]) == {"StringEquals"}  # exact values: no StringLike wildcard
    assert trust["Condition"]["StringEquals"] == {
        "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
        "token.actions.githubusercontent.com:sub": {
            "Fn::Sub": "repo:${GitHubRepository}:environment:${GitHubEnvironment}"
        },
    }
    provider = bootstrap["Resources"]["GitHubOidcProvider"]["Properties"]
    assert provider == {"Url": "https://token.actions.githubusercontent.com", "ClientIdList": ["sts.amazonaws.com"]}


def scripts_commands(tmp_path: Path) -> list[str]:
    environment = {
        **os.environ,
        "DRY_RUN": "1",
        "VPC_ID": "vpc-1",
        "SUBNET_IDS": "subnet-1",
        "BUILD_CACHE": "registry",
        "CFN_EXECUTION_ROLE_ARN": CFN_ROLE,
        "GITHUB_OUTPUT": str(tmp_path / "out"),
    }
    lines: list[str] = []
    for extra in ({}, {"REVIEW": "1"}):
        done = subprocess.run(
            ["bash", "infra/deploy.sh", "ap-southeast-3", "dev"],
            cwd=ROOT,
            env={**environment, **extra},
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stderr
        lines += done.stderr.splitlines()
    done = subprocess.run(
        ["bash", "infra/execute_change_set.sh", "ap-southeast-3", "dev", "arn:cs"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
    )
    lines += done.stderr.splitlines()
    return [line[2:] for line in lines if line.startswith("+ ")]


def test_the_deploy_role_allows_every_call_of_the_deploy_scripts(bootstrap, tmp_path) -> None:
    names = Names(
        place=PLACE,
        refs={"GitHubEnvironment": "dev", "GitHubRepository": "owner/servicepipe"},
        arns={"CloudFormationRole": CFN_ROLE},
    )
    statements = statements_of("DeployRole", names, template=BOOTSTRAP)
    needed: set[Grant] = set()
    for command in scripts_commands(tmp_path):
        if command.startswith(NEEDS_NOTHING):
            continue
        (known,) = [prefix for prefix in COMMANDS if command.startswith(prefix)] or [f"unmapped: {command}"]
        repository = next((w.split("/")[-1].split(":")[0] for w in command.split() if ".dkr.ecr." in w), "")
        repository = repository or next((w for w in command.split() if w.startswith("servicepipe-")), "")
        for action, resource in COMMANDS[known]:
            needed.add(Grant(action, resource.format(repository=repository)))
    missing = sorted(f"{g.action} on {g.resource}" for g in needed if not allows(statements, g))
    assert needed and missing == []


def test_cloudformations_role_covers_every_service_of_the_template(bootstrap) -> None:
    (statement,) = bootstrap["Resources"]["CloudFormationRole"]["Properties"]["Policies"][0]["PolicyDocument"][
        "Statement"
    ]
    prefixes = {action.split(":", 1)[0] for action in statement["Action"]}
    special = {"ApplicationAutoScaling": "application-autoscaling"}
    kinds = {r["Type"] for r in cfn_yaml.load(str(TEMPLATE))["Resources"].values()}
    services = {special.get(kind.split("::")[1], kind.split("::")[1].lower()) for kind in kinds}
    assert services - prefixes == set()
