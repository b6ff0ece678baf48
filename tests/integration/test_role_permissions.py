"""Each role in infra/template.yaml allows exactly what its component calls, both ways.

moto enforces no IAM, so a missing permission passes every other test and fails on the first
day in a real account (the API's role once lacked ``s3:ListBucket``: S3 then answers 403, not
404, for a submission not yet processed). Here each component runs its day on moto, every AWS
call it makes is recorded, ``adapters/aws/iam_actions.py`` says what each call needs, and the
template's statements are judged by AWS's rule (tests/iam_policy.py): nothing needed is
missing, nothing granted goes unused.
"""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone
from typing import Any

import boto3
import orjson
import pytest
from moto import mock_aws

from adapters.aws.iam_actions import OPERATIONS, Grant, Place, queue_arn
from application.analytics import publish_tables
from application.processing.process_raw_file import ProcessRawFile
from entrypoints.api import lambda_handler as api_lambda
from tests.factories import VALID_VIN, a_record
from tests.iam_policy import Names, allows, grants_of, recorded_calls, statements_of, unused
from tests.integration.aws_stack import REGION, create_stack, issue_key
from tests.integration.lambda_events import LambdaContext, api_gateway_event
from tests.recording_moto_server import recording_s3_server

PLACE = Place(region=REGION, account="123456789012")
ARTIFACTS = "sp-artifacts"

# Statements for what AWS itself does with the role, not the component's code: Lambda's and
# ECS's log delivery, and Glue fetching the job's script and writing its own logs.
PLATFORM = frozenset({"OwnLogs", "ReadScript", "GlueLogs"})
# What moto does not implement, answered as SQS would (the calls are recorded all the same).
MOTO_LACKS = {"ListMessageMoveTasks": {"Results": []}, "StartMessageMoveTask": {"TaskHandle": "task-1"}}

# Component -> the template resource that holds its permissions.
ROLES = {
    "api": "ApiRole",
    "worker": "WorkerTaskRole",
    "loader": "LoaderRole",
    "operators": "OperatorPolicy",
    "publisher": "PublisherTaskRole",
    "eraser": "EraserPolicy",
}


def names(stack, usage_plan: str) -> Names:
    buckets = {"RawBucket": stack.raw_bucket, "CleanedBucket": stack.cleaned_bucket, "ErrorBucket": stack.error_bucket}
    tables = {
        "ServiceRecordsTable": stack.table_name,
        "ApiKeysTable": stack.api_keys_table,
        "RecordIndexTable": stack.record_index_table,
    }
    queues = {"ProcessingQueue": stack.queue_url, "DeadLetterQueue": stack.dlq_url}
    arns = {logical: f"arn:aws:s3:::{bucket}" for logical, bucket in buckets.items()}
    arns |= {logical: f"arn:aws:dynamodb:{REGION}:{PLACE.account}:table/{t}" for logical, t in tables.items()}
    arns |= {logical: queue_arn(url, PLACE) for logical, url in queues.items()}
    refs = {**buckets, **tables, **queues, "ArtifactBucketName": ARTIFACTS, "UsagePlan": usage_plan}
    refs |= {"GlueScriptKey": "glue/script.py", "GlueBundleKey": "glue/bundle.zip", "EnvironmentName": "test"}
    refs |= {"AnalyticsDatabase": stack.analytics_database, "PseudonymKeySecret": stack.pseudonym_key_secret}
    return Names(place=PLACE, refs=refs, arns=arns)


def api(event: dict[str, Any]) -> dict[str, Any]:
    response = api_lambda.handler(event, LambdaContext())
    assert response["statusCode"] < 500, response
    return response


def cli(*argv: str) -> None:
    from entrypoints.cli.main import main

    assert main(["--backend", "aws", *argv]) == 0, argv


@pytest.fixture(scope="module")
def day(tmp_path_factory) -> dict[str, Any]:
    """One day of every component on moto: (recorded calls by component, the stack's names)."""
    monkeypatch = pytest.MonkeyPatch()
    from tests.integration.aws_stack import FAKE_CREDENTIALS

    for name, value in FAKE_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    calls: dict[str, list[Any]] = {component: [] for component in ROLES}
    with mock_aws():
        stack = create_stack()
        apigateway = boto3.client("apigateway")
        usage_plan = apigateway.create_usage_plan(name="dealers")["id"]
        for name, value in {**stack.environment(), "API_USAGE_PLAN_ID": usage_plan}.items():
            monkeypatch.setenv(name, value)
        monkeypatch.setattr(api_lambda, "_adapter", None)
        folder = tmp_path_factory.mktemp("day")
        monkeypatch.chdir(folder)

        current: list[Any] = []

        def run(component: str, work: Any) -> Any:
            with recorded_calls(MOTO_LACKS) as made:
                current[:] = [made]
                result = work()
            calls[component] += made
            return result

        run("operators", lambda: cli("dealers", "add", "DLR-JKT-001"))
        key_id = _first_key_id(stack)
        body = orjson.dumps([a_record("SR-1"), a_record("SR-2", {"vehicle.vin": "SHORT"})])
        receipt = json.loads(run("api", lambda: api(api_gateway_event(body, key=stack.admin_key)))["body"])
        status = f"/submissions/{receipt['submission_id']}"
        for path in (status, "/submissions/0f0e0d0c-0000-4000-8000-00000000dead"):  # pending, unknown
            run("api", lambda path=path: api(api_gateway_event(b"", path=path, method="GET", key=stack.admin_key)))
        bulk = folder / "bulk.jsonl"
        bulk.write_bytes(orjson.dumps(a_record("SR-3")) + b"\n" + b"{not json\n")
        run("operators", lambda: cli("upload", str(bulk)))
        s3 = boto3.client("s3")
        s3.put_object(Bucket=stack.raw_bucket, Key="service-records/date=2026-12-01/broken.json", Body=b"\x00")
        # Rejected only for a control character in the customer's name: valid once it is erased.
        controls = orjson.dumps(a_record("SR-5", {"customer.customer_name": "Budi\u0007"}))
        s3.put_object(Bucket=stack.raw_bucket, Key="service-records/date=2026-12-01/controls.jsonl", Body=controls)
        # A visibility timeout of 1 s: the worker renews it (heartbeats) while a file is in hand.
        # A file is held until a renewal has happened: a warm process may finish a small file
        # before the first heartbeat is due, and the renewal's permission must be exercised.
        monkeypatch.setenv("SERVICEPIPE_QUEUE_VISIBILITY_TIMEOUT", "1")
        with pytest.MonkeyPatch.context() as held:
            held.setattr(ProcessRawFile, "__call__", _held_until_renewed(ProcessRawFile.__call__, current))
            run("worker", lambda: _worker())
        run("publisher", lambda: _reading_tables("publisher", ("publish",), monkeypatch, calls))
        run("api", lambda: api(api_gateway_event(b"", path=status, method="GET", key=stack.admin_key)))
        # Files replaced in place: the first no longer has rejected rows, the bulk file cannot be
        # read at all; the worker deletes the outputs their new runs no longer have.
        first = receipt["file_key"]
        s3.put_object(Bucket=stack.raw_bucket, Key=first, Body=orjson.dumps([a_record("SR-1"), a_record("SR-2")]))
        (bulk_key,) = [k for k in _keys(stack.raw_bucket, "service-records/") if k.endswith("_bulk.jsonl")]
        s3.put_object(Bucket=stack.raw_bucket, Key=bulk_key, Body=b"\x00")
        run("worker", lambda: _worker())
        run("loader", lambda: _loader(stack))
        # The second publish replaces the date the first published (its files were replaced
        # since), and tidies at once what that left unreferenced.
        with monkeypatch.context() as now:
            now.setattr(publish_tables, "SNAPSHOT_RETENTION", timedelta(0))
            run("publisher", lambda: _reading_tables("publisher", ("publish",), monkeypatch, calls))
        history = f"/vehicles/{VALID_VIN}/service-records"
        dealer_key = issue_key(
            boto3.client("dynamodb"), stack.api_keys_table, dealer_id=a_record()["dealer"]["dealer_id"]
        )
        for path, key in (
            (history, stack.admin_key),
            ("/service-records/SR-1", stack.admin_key),
            ("/service-records/SR-1", dealer_key),
        ):
            run("api", lambda path=path, key=key: api(api_gateway_event(b"", path=path, method="GET", key=key)))
        today = datetime.now(timezone.utc).date().isoformat()
        run("operators", lambda: cli("status", "--json"))
        run("operators", lambda: cli("status", "--submission", receipt["submission_id"]))
        run("operators", lambda: cli("history", VALID_VIN))
        boto3.client("sqs").send_message(QueueUrl=stack.dlq_url, MessageBody=json.dumps(_s3_event(stack, first)))
        run("operators", lambda: cli("dlq", "list"))
        run("operators", lambda: cli("dlq", "redrive"))
        run("operators", lambda: cli("replay", first))
        reconcile = ("reconcile", "--date", today)
        run("operators", lambda: _reading_tables("operators", reconcile, monkeypatch, calls))
        insights = ("insights", "--out", str(folder / "report"))
        run("operators", lambda: _reading_tables("operators", insights, monkeypatch, calls))
        forget = ("forget", "--dealer", "DLR-JKT-001", "--customer", a_record()["customer"]["customer_id"])
        run("eraser", lambda: _reading_tables("eraser", forget, monkeypatch, calls))
        # A request filed through the API, followed, carried out by the operator, followed again.
        asked = orjson.dumps({"dealer_id": "DLR-JKT-001", "service_record_id": "SR-3"})
        filed = json.loads(
            run("api", lambda: api(api_gateway_event(asked, path="/erasure-requests", key=stack.admin_key)))["body"]
        )
        followed = f"/erasure-requests/{filed['request_id']}"
        follow = api_gateway_event(b"", path=followed, method="GET", key=stack.admin_key)
        run("api", lambda: api(follow))
        run("eraser", lambda: _reading_tables("eraser", ("forget", "--pending"), monkeypatch, calls))
        assert json.loads(run("api", lambda: api(follow))["body"])["status"] != "received"
        run("operators", lambda: cli("dealers", "list"))
        run("operators", lambda: cli("dealers", "revoke", key_id))
    monkeypatch.undo()
    return {"calls": calls, "names": names(stack, usage_plan)}


def _held_until_renewed(process: Any, current: list[Any]) -> Any:
    def held(self: Any, key: str, *args: Any, **kwargs: Any) -> Any:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if any(operation == "ChangeMessageVisibility" for _, operation, _ in current[0]):
                break
            time.sleep(0.05)
        return process(self, key, *args, **kwargs)

    return held


def _s3_event(stack, key: str) -> dict[str, Any]:
    return {
        "Records": [
            {"eventName": "ObjectCreated:Put", "s3": {"bucket": {"name": stack.raw_bucket}, "object": {"key": key}}}
        ]
    }


def _keys(bucket: str, prefix: str) -> list[str]:
    listing = boto3.client("s3").list_objects_v2(Bucket=bucket, Prefix=prefix)
    return [o["Key"] for o in listing.get("Contents", [])]


def _worker() -> None:
    from entrypoints.worker.fargate import main

    assert main(["--drain"]) == 0


def _reading_tables(
    component: str, argv: tuple[str, ...], monkeypatch: pytest.MonkeyPatch, calls: dict[str, list[Any]]
) -> None:
    """A command that reads or writes the analytics tables' files, with pyarrow's S3 requests
    sent to a moto server in this process that records them: in-process moto cannot see them."""
    with recording_s3_server() as (endpoint, files):
        monkeypatch.setenv("AWS_ENDPOINT_URL_S3", endpoint)
        cli(*argv)
        monkeypatch.delenv("AWS_ENDPOINT_URL_S3")
    calls[component] += files


def _loader(stack) -> None:
    from entrypoints.loader.glue_load_to_dynamo import main

    argv = ["glue", "--DYNAMODB_TABLE_NAME", stack.table_name, "--SOURCE_BUCKET_NAME", stack.cleaned_bucket]
    assert main([*argv, "--ENVIRONMENT_NAME", "test"]) == 0


def _first_key_id(stack) -> str:
    items = boto3.client("dynamodb").scan(TableName=stack.api_keys_table)["Items"]
    return sorted(item["key_id"]["S"] for item in items if item.get("dealer_id", {}).get("S") == "DLR-JKT-001")[0]


@pytest.mark.parametrize("component", list(ROLES))
def test_every_call_of_the_component_is_allowed_by_its_role(day, component) -> None:
    statements = statements_of(ROLES[component], day["names"], skip=PLATFORM)
    needed = grants_of(day["calls"][component], PLACE)
    assert needed, f"{component} made no AWS call: the scenario did not run it"
    missing = sorted(f"{g.action} on {g.resource}" for g in needed if not allows(statements, g))
    assert missing == [], f"{ROLES[component]} lacks what {component} calls"


@pytest.mark.parametrize("component", list(ROLES))
def test_the_role_grants_nothing_the_component_does_not_call(day, component) -> None:
    statements = statements_of(ROLES[component], day["names"], skip=PLATFORM)
    used = grants_of(day["calls"][component], PLACE)
    assert unused(statements, used) == []


def test_every_mapped_operation_is_called_by_some_component(day) -> None:
    called = {(service, operation) for made in day["calls"].values() for service, operation, _ in made}
    mapped = {(service, operation) for service, operations in OPERATIONS.items() for operation in operations}
    # Multipart uploads and their abort are s3transfer's for outputs past 8 MiB: not in a day this small.
    big_uploads = {("s3", op) for op in ("CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload")}
    assert mapped - called - big_uploads - {("s3", "AbortMultipartUpload")} == set()


def test_the_rule_that_found_the_api_roles_gap() -> None:
    """The S3 rule, at its edge: reading a key needs ListBucket on its bucket, not on another."""
    from tests.iam_policy import Statement

    read = Statement("Allow", ("s3:GetObject",), ("arn:aws:s3:::raw/submissions/*",))
    listing = Statement("Allow", ("s3:ListBucket",), ("arn:aws:s3:::raw",))
    other = Statement("Allow", ("s3:ListBucket",), ("arn:aws:s3:::cleaned",))
    grants = grants_of([("s3", "GetObject", {"Bucket": "raw", "Key": "submissions/x.json"})], PLACE)
    assert grants == {
        Grant("s3:GetObject", "arn:aws:s3:::raw/submissions/x.json"),
        Grant("s3:ListBucket", "arn:aws:s3:::raw"),
    }
    assert not all(allows([read], g) for g in grants)
    assert not all(allows([read, other], g) for g in grants)
    assert all(allows([read, listing], g) for g in grants)
