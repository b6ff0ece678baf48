"""infra/template.yaml: cfn-lint passes, and the security promises hold resource by resource."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cfnlint.decode import cfn_yaml

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "infra" / "template.yaml"
BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def resources() -> dict[str, Any]:
    return dict(cfn_yaml.load(str(TEMPLATE))["Resources"])


def of_type(resources: dict[str, Any], kind: str) -> dict[str, Any]:
    return {name: r for name, r in resources.items() if r["Type"] == kind}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_cfn_lint_passes() -> None:
    done = subprocess.run([str(BIN / "cfn-lint"), str(TEMPLATE)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_iam_statement_names_its_actions_and_scopes_its_resources(resources) -> None:
    roles = of_type(resources, "AWS::IAM::Role")
    assert {"ApiRole", "WorkerTaskRole", "WorkerExecutionRole", "LoaderRole"} <= set(roles)
    for name, role in roles.items():
        properties = role["Properties"]
        assert "ManagedPolicyArns" not in properties, f"{name}: managed policies grant more than listed"
        allowed_wildcards = (role.get("Metadata") or {}).get("servicepipe", {}).get("wildcard-resources", {})
        for policy in properties.get("Policies", []):
            for statement in policy["PolicyDocument"]["Statement"]:
                actions = as_list(statement["Action"])
                assert actions and all("*" not in action for action in actions), f"{name}: {actions}"
                for resource in as_list(statement["Resource"]):
                    if resource == "*":
                        assert set(actions) <= set(allowed_wildcards), f"{name}: {actions} on * without a reason"
                    elif not _ref_is_an_arn(resource, resources):
                        text = str(resource)
                        assert "Arn" in text or "arn:" in text, f"{name}: {resource} is not this stack's ARN"


# Resources whose Ref is their ARN (CloudFormation's reference of each type).
REF_IS_ARN = {"AWS::SecretsManager::Secret"}


def _ref_is_an_arn(resource: object, resources: dict) -> bool:
    named = resource.get("Ref") if isinstance(resource, dict) else None
    return isinstance(named, str) and resources.get(named, {}).get("Type") in REF_IS_ARN


def test_every_bucket_blocks_public_access_and_refuses_plain_http(resources) -> None:
    buckets = of_type(resources, "AWS::S3::Bucket")
    policies = [p["Properties"] for p in of_type(resources, "AWS::S3::BucketPolicy").values()]
    assert set(buckets) == {"RawBucket", "CleanedBucket", "ErrorBucket", "AccessLogsBucket"}
    for name, bucket in buckets.items():
        block = bucket["Properties"]["PublicAccessBlockConfiguration"]
        assert all(
            block[key] is True
            for key in ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets")
        )
        assert bucket["Properties"]["BucketEncryption"]
        (policy,) = [p for p in policies if p["Bucket"] == {"Ref": name}]
        denies = [s for s in policy["PolicyDocument"]["Statement"] if s["Effect"] == "Deny"]
        assert any(
            s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}} and len(as_list(s["Resource"])) == 2
            for s in denies
        )
    for name in ("RawBucket", "CleanedBucket", "ErrorBucket"):
        assert buckets[name]["Properties"]["LoggingConfiguration"]["DestinationBucketName"] == {
            "Ref": "AccessLogsBucket"
        }
    raw = buckets["RawBucket"]["Properties"]
    assert raw["VersioningConfiguration"]["Status"] == "Enabled"
    transition = raw["LifecycleConfiguration"]["Rules"][0]["Transitions"][0]
    assert transition == {"StorageClass": "STANDARD_IA", "TransitionInDays": {"Ref": "RawToInfrequentAccessDays"}}
    expiry = buckets["ErrorBucket"]["Properties"]["LifecycleConfiguration"]["Rules"][0]["ExpirationInDays"]
    assert expiry == {"Ref": "ErrorRetentionDays"}


def test_the_queue_has_its_dead_letter_queue_and_only_the_raw_bucket_sends(resources) -> None:
    queue = resources["ProcessingQueue"]["Properties"]
    assert queue["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": ["DeadLetterQueue", "Arn"]},
        "maxReceiveCount": 5,
    }
    assert queue["MaximumMessageSize"] >= 64 * 1024
    assert resources["DeadLetterQueue"]["Properties"]["MessageRetentionPeriod"] == 14 * 24 * 3600
    (statement,) = resources["ProcessingQueuePolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": "s3.amazonaws.com"} and statement["Action"] == "sqs:SendMessage"
    assert "raw" in str(statement["Condition"]["ArnEquals"]["aws:SourceArn"])
    notification = resources["RawBucket"]["Properties"]["NotificationConfiguration"]["QueueConfigurations"][0]
    assert notification["Queue"] == {"Fn::GetAtt": ["ProcessingQueue", "Arn"]}


def test_the_worker_gets_its_settings_and_time_to_stop(resources) -> None:
    (container,) = resources["WorkerTaskDefinition"]["Properties"]["ContainerDefinitions"]
    names = {variable["Name"] for variable in container["Environment"]}
    assert {"RAW_BUCKET_NAME", "CLEANED_BUCKET_NAME", "ERROR_BUCKET_NAME", "SQS_QUEUE_URL"} <= names
    assert "SERVICEPIPE_ENVIRONMENT" in names  # the metrics' dimension, which the rejection alarm reads
    assert container["StopTimeout"] == 30 and container["LogConfiguration"]["LogDriver"] == "awslogs"
    assert resources["WorkerService"]["Properties"]["DesiredCount"] == 0
    assert resources["LoaderSchedule"]["Properties"]["Schedule"] == "cron(30 0 * * ? *)"
    table = resources["ServiceRecordsTable"]["Properties"]
    assert table["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert table["GlobalSecondaryIndexes"][0]["IndexName"] == "vin-history-index"


def test_every_log_group_has_a_retention(resources) -> None:
    groups = of_type(resources, "AWS::Logs::LogGroup")
    assert len(groups) >= 3 and all("RetentionInDays" in g["Properties"] for g in groups.values())


def test_every_checkov_skip_says_why(resources) -> None:
    skips = [
        (name, skip)
        for name, resource in resources.items()
        for skip in ((resource.get("Metadata") or {}).get("checkov") or {}).get("skip", [])
    ]
    assert skips and all(len(skip["comment"]) > 20 for _, skip in skips), skips
    for dockerfile in (ROOT / "infra" / "docker").glob("*.Dockerfile"):
        for line in dockerfile.read_text().splitlines():
            if "checkov:skip=" in line:
                reason = line.split(":", 2)[-1]
                assert len(reason.strip()) > 20, f"{dockerfile.name}: {line}"


def test_athena_reads_the_tables_publish_commits_daily(resources) -> None:
    """The analytics tables are the Iceberg tables `servicepipe publish` creates in the stack's
    database (their columns are held to the star schema by tests/integration/test_iceberg_tables.py):
    a table the template declared under one of their names would make publish's CreateTable fail."""
    assert of_type(resources, "AWS::Glue::Table") == {}
    task = resources["PublisherTaskDefinition"]["Properties"]
    (container,) = task["ContainerDefinitions"]
    assert [container["EntryPoint"], container["Command"]] == [["servicepipe"], ["--backend", "aws", "publish"]]
    environment = {e["Name"]: e["Value"] for e in container["Environment"]}
    assert environment["ANALYTICS_DATABASE_NAME"] == {"Ref": "AnalyticsDatabase"}
    assert environment["CLEANED_BUCKET_NAME"] == {"Ref": "CleanedBucket"}
    assert task["TaskRoleArn"] == {"Fn::GetAtt": ["PublisherTaskRole", "Arn"]}
    (target,) = resources["PublishSchedule"]["Properties"]["Targets"]
    assert target["EcsParameters"]["TaskDefinitionArn"] == {"Ref": "PublisherTaskDefinition"}
    assert resources["PublishSchedule"]["Properties"]["ScheduleExpression"] == "cron(15 0 * * ? *)"


def test_the_worker_tasks_take_no_inbound_traffic(resources) -> None:
    groups = of_type(resources, "AWS::EC2::SecurityGroup")
    assert set(groups) == {"WorkerSecurityGroup"}
    properties = groups["WorkerSecurityGroup"]["Properties"]
    assert "SecurityGroupIngress" not in properties
    assert not of_type(resources, "AWS::EC2::SecurityGroupIngress")
