"""infra/template.yaml: what holds data survives a deleted or replaced stack, what is one per
account is optional, and a changed route reaches the stage (issue 19, item 4)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from cfnlint.decode import cfn_yaml

from infra.render_template import DEPLOYMENT, render

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "infra" / "template.yaml"
# The pseudonym key too: a stack made again with a new key could not find anyone in the index.
KEPT = {"RawBucket", "CleanedBucket", "ErrorBucket", "AccessLogsBucket", "DeadLetterQueue", "PseudonymKeySecret"}


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return dict(cfn_yaml.load(str(TEMPLATE)))


def test_buckets_the_dead_letter_queue_and_log_groups_are_retained(template) -> None:
    resources = template["Resources"]
    logs = {name for name, r in resources.items() if r["Type"] == "AWS::Logs::LogGroup"}
    buckets = {name for name, r in resources.items() if r["Type"] == "AWS::S3::Bucket"}
    assert logs and buckets <= KEPT
    for name in KEPT | logs:
        assert (resources[name].get("DeletionPolicy"), resources[name].get("UpdateReplacePolicy")) == (
            "Retain",
            "Retain",
        ), name


def test_the_tables_are_retained_and_protected_from_deletion(template) -> None:
    tables = {n: r for n, r in template["Resources"].items() if r["Type"] == "AWS::DynamoDB::Table"}
    assert set(tables) == {"ServiceRecordsTable", "ApiKeysTable", "RecordIndexTable"}
    for name, table in tables.items():
        assert table["Properties"]["DeletionProtectionEnabled"] is True, name
        assert table["DeletionPolicy"] == table["UpdateReplacePolicy"] == "Retain", name


def test_the_account_wide_logging_role_is_this_stacks_only_when_asked(template) -> None:
    parameter = template["Parameters"]["ManageApiGatewayAccount"]
    assert (parameter["Default"], parameter["AllowedValues"]) == ("true", ["true", "false"])
    resources = template["Resources"]
    for name in ("ApiGatewayAccount", "ApiGatewayLoggingRole"):
        assert resources[name]["Condition"] == "ManagesApiGatewayAccount", name
    assert template["Conditions"]["ManagesApiGatewayAccount"] == {
        "Fn::Equals": [{"Ref": "ManageApiGatewayAccount"}, "true"]
    }
    stage = resources["ApiStage"]
    assert "DependsOn" not in stage  # a DependsOn on a resource that may not exist fails the stack
    ordering = stage["Metadata"]["after-account-logging-role"]
    assert ordering == {"Fn::If": ["ManagesApiGatewayAccount", {"Ref": "ApiGatewayAccount"}, {"Ref": "AWS::NoValue"}]}


def test_no_lambda_concurrency_is_reserved_unless_asked(template) -> None:
    parameter = template["Parameters"]["ApiReservedConcurrency"]
    assert parameter["Default"] == ""
    pattern = re.compile(parameter["AllowedPattern"])
    assert pattern.fullmatch("") and pattern.fullmatch("1") and pattern.fullmatch("99999")
    assert not pattern.fullmatch("0") and not pattern.fullmatch("100000") and not pattern.fullmatch("-5")
    reserved = template["Resources"]["ApiFunction"]["Properties"]["ReservedConcurrentExecutions"]
    assert reserved == {
        "Fn::If": ["HasApiReservedConcurrency", {"Ref": "ApiReservedConcurrency"}, {"Ref": "AWS::NoValue"}]
    }


def deployment_id(text: str) -> str:
    resources = cfn_yaml.loads(render(text))["Resources"]
    (name,) = [n for n, r in resources.items() if r["Type"] == "AWS::ApiGateway::Deployment"]
    stage = resources["ApiStage"]["Properties"]["DeploymentId"]
    assert stage == {"Ref": name}  # every reference follows the new id
    return name


def test_a_change_of_the_routes_makes_a_new_deployment_and_nothing_else_does() -> None:
    text = TEMPLATE.read_text()
    today = deployment_id(text)
    assert re.fullmatch(rf"{DEPLOYMENT}[0-9a-f]{{12}}", today) and deployment_id(text) == today
    new_path = text.replace("PathPart: service-records\n", "PathPart: service-records-v2\n", 1)
    new_method = text.replace("HttpMethod: GET", "HttpMethod: PUT", 1)
    assert new_path != text and new_method != text
    assert deployment_id(new_path) != today and deployment_id(new_method) != today
    not_a_route = text.replace('Memory: "1024"', 'Memory: "2048"', 1)
    assert not_a_route != text and deployment_id(not_a_route) == today


def test_the_sandbox_sets_the_raw_buckets_notification_from_the_template(tmp_path, monkeypatch) -> None:
    """moto ignores a bucket's NotificationConfiguration in a template: the sandbox reads the
    template's and sets it through the API, so a changed prefix or event reaches it too."""
    import infra.sandbox as sandbox

    (tmp_path / "infra").mkdir()
    changed = TEMPLATE.read_text().replace("Value: service-records/", "Value: incoming/", 1)
    changed = changed.replace("- Event: s3:ObjectCreated:*", "- Event: s3:ObjectCreated:Put", 1)
    assert changed.count("incoming/") == 1 and "s3:ObjectCreated:Put" in changed
    (tmp_path / "infra" / "template.yaml").write_text(changed)
    monkeypatch.setattr(sandbox, "ROOT", tmp_path)
    assert sandbox.notification_of_raw_bucket("arn:aws:sqs:ap-southeast-3:1:q") == {
        "QueueConfigurations": [
            {
                "QueueArn": "arn:aws:sqs:ap-southeast-3:1:q",
                "Events": ["s3:ObjectCreated:Put"],
                "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "incoming/"}]}},
            }
        ]
    }


def test_no_iam_resource_is_named_since_the_deploy_grants_capability_iam_only(template) -> None:
    """CloudFormation refuses a stack with a custom-named IAM resource unless the deploy
    acknowledges CAPABILITY_NAMED_IAM; deploy.sh acknowledges CAPABILITY_IAM."""
    names = {"AWS::IAM::Role": "RoleName", "AWS::IAM::ManagedPolicy": "ManagedPolicyName", "AWS::IAM::User": "UserName"}
    named = [
        name
        for name, resource in template["Resources"].items()
        if names.get(resource["Type"]) in (resource.get("Properties") or {})
    ]
    assert named == []
    script = (ROOT / "infra" / "deploy.sh").read_text()
    assert "--capabilities CAPABILITY_IAM " in script and "CAPABILITY_NAMED_IAM" not in script
