"""Alarms reach a person (issue 19, item 2): checked by the rules AWS documents, which moto
does not enforce: an SNS topic under a KMS key is usable by a service only if the key policy
lets that service use the key and the topic policy lets it publish; an EventBridge rule fires
only for events its pattern matches."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from cfnlint.decode import cfn_yaml

from tests.iam_policy import Statement

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "infra" / "template.yaml"
PUBLISHERS = {"cloudwatch.amazonaws.com", "events.amazonaws.com"}


@pytest.fixture(scope="module")
def resources() -> dict[str, Any]:
    return dict(cfn_yaml.load(str(TEMPLATE))["Resources"])


def listed(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


def statements_for(document: dict[str, Any], service: str) -> list[dict[str, Any]]:
    return [
        s
        for s in document["Statement"]
        if s["Effect"] == "Allow" and service in listed((s.get("Principal") or {}).get("Service", []))
    ]


def test_the_topic_is_under_a_key_of_the_stack_that_both_publishers_may_use(resources) -> None:
    topic = resources["AlarmTopic"]["Properties"]
    assert topic["KmsMasterKeyId"] == {"Ref": "AlarmKey"}  # never alias/aws/sns
    key = resources["AlarmKey"]["Properties"]
    assert key["EnableKeyRotation"] is True
    for service in PUBLISHERS:
        granted = statements_for(key["KeyPolicy"], service)
        for action in ("kms:Decrypt", "kms:GenerateDataKey"):
            assert any(
                Statement("Allow", tuple(listed(s["Action"])), ("*",)).matches(_grant(action)) for s in granted
            ), (service, action)


def _grant(action: str):  # type: ignore[no-untyped-def]
    from adapters.aws.iam_actions import Grant

    return Grant(action, "*")


def _alarm_name(alarm: dict[str, Any]) -> str:
    name = alarm["Properties"].get("AlarmName", {})
    return str(name.get("Fn::Sub", "")) if isinstance(name, dict) else str(name)


def notifying(resources: dict[str, Any], kind: str) -> dict[str, Any]:
    """The alarms (or rules) of the template that notify the alarm topic."""
    found = {}
    for name, resource in resources.items():
        if resource["Type"] != kind:
            continue
        properties = resource["Properties"]
        targets = properties.get("AlarmActions", []) + [t["Arn"] for t in properties.get("Targets", [])]
        if {"Ref": "AlarmTopic"} in targets:
            found[name] = resource
    return found


def test_the_topic_policy_admits_every_alarm_and_rule_that_notifies_it(resources) -> None:
    policy = resources["AlarmTopicPolicy"]["Properties"]["PolicyDocument"]
    (alarms_may,) = statements_for(policy, "cloudwatch.amazonaws.com")
    pattern = str(alarms_may["Condition"]["ArnLike"]["aws:SourceArn"]["Fn::Sub"])
    alarm_part = pattern.split(":alarm:", 1)[1]  # servicepipe-${EnvironmentName}-*
    alarms = notifying(resources, "AWS::CloudWatch::Alarm")
    assert len(alarms) >= 7
    for name, alarm in alarms.items():
        alarm_name = _alarm_name(alarm)
        regex = re.escape(alarm_part).replace(r"\*", ".*")
        assert re.fullmatch(regex, alarm_name), f"{name}: {alarm_name!r} is not admitted by {alarm_part!r}"
    (rules_may,) = statements_for(policy, "events.amazonaws.com")
    admitted = rules_may["Condition"]["ArnEquals"]["aws:SourceArn"]
    rules = notifying(resources, "AWS::Events::Rule")
    assert rules and [{"Fn::GetAtt": [name, "Arn"]} for name in sorted(rules)] == sorted(
        admitted, key=lambda a: a["Fn::GetAtt"][0]
    )


def metric_alarm(resources: dict[str, Any], metric: str) -> dict[str, Any]:
    (alarm,) = [
        r["Properties"]
        for r in notifying(resources, "AWS::CloudWatch::Alarm").values()
        if r["Properties"].get("MetricName") == metric
    ]
    return alarm


@pytest.mark.parametrize(
    ("metric", "namespace", "dimension"),
    [
        ("ApproximateAgeOfOldestMessage", "AWS/SQS", {"Fn::GetAtt": ["ProcessingQueue", "QueueName"]}),
        ("ApproximateNumberOfMessagesVisible", "AWS/SQS", {"Fn::GetAtt": ["DeadLetterQueue", "QueueName"]}),
        ("5XXError", "AWS/ApiGateway", {"Fn::Sub": "servicepipe-${EnvironmentName}"}),
        ("Errors", "AWS/Lambda", {"Ref": "ApiFunction"}),
        ("Throttles", "AWS/Lambda", {"Ref": "ApiFunction"}),
        ("FilesFailed", "servicepipe", {"Ref": "EnvironmentName"}),
    ],
)
def test_each_alarm_an_operator_expects_is_there(resources, metric, namespace, dimension) -> None:
    alarm = metric_alarm(resources, metric)
    assert alarm["Namespace"] == namespace
    assert alarm["Dimensions"][0]["Value"] == dimension
    assert alarm["TreatMissingData"] == "notBreaching"


def test_every_alarm_and_rule_has_its_runbook_line(resources) -> None:
    runbook = (ROOT / "docs" / "operations.md").read_text()
    for alarm in notifying(resources, "AWS::CloudWatch::Alarm").values():
        suffix = _alarm_name(alarm).removeprefix("servicepipe-${EnvironmentName}-")
        assert f"| `{suffix}` |" in runbook, suffix
        assert "docs/operations.md" in str(alarm["Properties"]["AlarmDescription"]) or suffix == "rejection-rate"
    for name in notifying(resources, "AWS::Events::Rule"):
        assert f"| rule `{name}` |" in runbook, name


# ---------------------------------------------------------------- EventBridge's matching


def matches(pattern: dict[str, Any], event: Any) -> bool:
    """EventBridge's rule, for what these patterns use: each field's list holds values or
    ``anything-but``; nested objects match nested fields; an array in the event matches if
    any element does; ``$or`` matches if any branch does; a missing field never matches."""
    for field, wanted in pattern.items():
        if field == "$or":
            if not any(matches(branch, event) for branch in wanted):
                return False
            continue
        if not isinstance(event, dict) or field not in event:
            return False
        value = event[field]
        if isinstance(wanted, dict):
            values = value if isinstance(value, list) else [value]
            if not any(matches(wanted, v) for v in values):
                return False
        elif not any(_value_matches(w, value) for w in wanted):
            return False
    return True


def _value_matches(wanted: Any, value: Any) -> bool:
    values = value if isinstance(value, list) else [value]
    if isinstance(wanted, dict):
        (rule, operand) = next(iter(wanted.items()))
        assert rule == "anything-but", rule
        return any(v not in listed(operand) for v in values)
    return wanted in values


CLUSTER = "arn:aws:ecs:ap-southeast-3:123456789012:cluster/servicepipe-dev"
SERVICE = "arn:aws:ecs:ap-southeast-3:123456789012:service/servicepipe-dev/servicepipe-dev-worker"


def task_stopped(**detail: Any) -> dict[str, Any]:
    return {
        "source": "aws.ecs",
        "detail-type": "ECS Task State Change",
        "resources": ["arn:aws:ecs:ap-southeast-3:123456789012:task/servicepipe-dev/abc"],
        "detail": {"clusterArn": CLUSTER, "lastStatus": "STOPPED", **detail},
    }


@pytest.fixture(scope="module")
def worker_rule(resources) -> dict[str, Any]:
    """The rule's pattern with this stack's cluster and service in place of the references."""
    text = repr(resources["WorkerTaskFailedRule"]["Properties"]["EventPattern"])
    text = text.replace("{'Fn::GetAtt': ['Cluster', 'Arn']}", repr(CLUSTER))
    text = text.replace("{'Ref': 'WorkerService'}", repr(SERVICE))
    return dict(eval(text))  # noqa: S307 - the template's own pattern, reprinted with names filled in


@pytest.mark.parametrize(
    ("event", "fires"),
    [
        (task_stopped(stopCode="EssentialContainerExited", containers=[{"exitCode": 1}]), True),
        (
            task_stopped(
                stopCode="TaskFailedToStart",
                stoppedReason="CannotPullContainerError: pull image manifest has been retried 5 time(s)",
                containers=[{"name": "worker"}],  # never ran: no exit code at all
            ),
            True,
        ),
        (
            task_stopped(stopCode="TaskFailedToStart", stoppedReason="ResourceInitializationError: unable to pull"),
            True,
        ),
        (
            {
                "source": "aws.ecs",
                "detail-type": "ECS Deployment State Change",
                "resources": [SERVICE],
                "detail": {"eventType": "ERROR", "eventName": "SERVICE_DEPLOYMENT_FAILED"},
            },
            True,
        ),
        # A scale-in or a deploy's replacement: exit code 0, stopped by the scheduler.
        (task_stopped(stopCode="ServiceSchedulerInitiated", containers=[{"exitCode": 0}]), False),
        (
            task_stopped(lastStatus="RUNNING", containers=[{"exitCode": 1}]) | {"detail": {"lastStatus": "RUNNING"}},
            False,
        ),
        (
            task_stopped(stopCode="TaskFailedToStart")
            | {"detail": {"clusterArn": "arn:other", "lastStatus": "STOPPED"}},
            False,
        ),
    ],
    ids=["non-zero exit", "image pull", "networking", "deployment failed", "scale-in", "running", "other cluster"],
)
def test_the_worker_rule_fires_for_tasks_that_fail_or_never_start(worker_rule, event, fires) -> None:
    assert matches(worker_rule, event) is fires


def test_the_loader_rule_fires_for_a_failed_run_only(resources) -> None:
    pattern = dict(resources["LoaderFailedRule"]["Properties"]["EventPattern"])
    pattern["detail"] = {**pattern["detail"], "jobName": ["servicepipe-dev-loader"]}

    def run(state: str) -> dict[str, Any]:
        detail = {"jobName": "servicepipe-dev-loader", "state": state}
        return {"source": "aws.glue", "detail-type": "Glue Job State Change", "detail": detail}

    assert [s for s in ("SUCCEEDED", "FAILED", "TIMEOUT", "STOPPED", "ERROR") if matches(pattern, run(s))] == [
        "FAILED",
        "TIMEOUT",
        "ERROR",
    ]
