"""infra/template.yaml deployed through CloudFormation to a moto server, then the pipeline run
against the names in the stack's outputs: the API handler, the Fargate worker and the Glue
loader, each as it runs in production. moto creates the buckets, queues, table and roles and
skips what it does not support (alarms, scaling, Glue); the raw bucket's notification, which
moto ignores in templates, is wired through the API."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import boto3
import orjson
import pytest
from moto.server import ThreadedMotoServer

from entrypoints.api import lambda_handler as api_lambda
from infra.sandbox import deploy_to_moto, run_worker_and_loader, stack_environment
from tests.factories import a_record
from tests.integration.aws_stack import FAKE_CREDENTIALS, issue_key
from tests.integration.lambda_events import LambdaContext, api_gateway_event

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore:Tried to parse"),  # resources moto's CloudFormation skips
]


@pytest.fixture
def endpoint(aws_env, monkeypatch):
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    monkeypatch.setenv("AWS_ENDPOINT_URL", url)
    yield url
    server.stop()


def test_the_template_deploys_and_the_pipeline_runs_on_its_outputs(endpoint, monkeypatch) -> None:
    outputs = deploy_to_moto(endpoint, environment_name="test")
    redrive = boto3.client("sqs").get_queue_attributes(QueueUrl=outputs["QueueUrl"], AttributeNames=["RedrivePolicy"])
    assert json.loads(redrive["Attributes"]["RedrivePolicy"])["maxReceiveCount"] in (5, "5")
    environment = stack_environment(outputs)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(api_lambda, "_adapter", None)

    body = orjson.dumps([a_record("SR-1"), a_record("SR-2", {"vehicle.vin": "SHORT"})])
    key = issue_key(boto3.client("dynamodb"), outputs["ApiKeysTableName"], dealer_id="DLR-JKT-001")
    response = api_lambda.handler(api_gateway_event(body, key=key), LambdaContext())
    assert response["statusCode"] == 202, response["body"]

    child = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    child.update({**FAKE_CREDENTIALS, **environment, "AWS_ENDPOINT_URL": endpoint})
    worker, loader = run_worker_and_loader(child, outputs)
    assert worker.returncode == 0, worker.stderr
    metrics = [json.loads(line) for line in worker.stdout.splitlines() if '"CloudWatchMetrics"' in line]
    assert any(m.get("RowsValid") == [1.0] and m.get("RowsRejected") == [1.0] for m in metrics)  # EMF on stdout
    assert loader.returncode == 0, loader.stderr
    assert json.loads(loader.stdout.strip().splitlines()[-1])["records_loaded"] == 1
    loaded = boto3.client("cloudwatch").get_metric_statistics(
        Namespace="servicepipe",
        MetricName="RecordsLoaded",
        Dimensions=[{"Name": "environment", "Value": "test"}],
        StartTime=datetime.now(timezone.utc) - timedelta(hours=1),
        EndTime=datetime.now(timezone.utc) + timedelta(minutes=5),
        Period=3600,
        Statistics=["Sum"],
    )
    assert [point["Sum"] for point in loaded["Datapoints"]] == [1.0]
    items = boto3.resource("dynamodb").Table(outputs["TableName"]).scan()["Items"]
    assert [item["service_record_id"] for item in items] == ["SR-1"]
    rejected = boto3.client("s3").list_objects_v2(Bucket=outputs["ErrorBucketName"], Prefix="rejected/")
    assert rejected["KeyCount"] == 1


def test_make_sandbox_runs_the_pipeline_and_stops_on_ctrl_c() -> None:
    import signal
    import time

    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    sandbox = subprocess.Popen(
        [sys.executable, "-m", "infra.sandbox"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    shown: list[str] = []
    assert sandbox.stdout is not None
    deadline = time.monotonic() + 180
    for line in sandbox.stdout:
        shown.append(line)
        if "Ctrl-C stops the sandbox" in line or time.monotonic() > deadline:
            break
    text = "".join(shown)
    assert "RawBucketName" in text and "QueueUrl" in text, text + sandbox.stderr.read()
    loaded = int(text.split("loaded ")[1].split(" records")[0].replace(",", ""))
    assert loaded > 400 and f"the table holds {loaded:,}" in text
    assert "aws --endpoint-url http://127.0.0.1:" in text
    sandbox.send_signal(signal.SIGINT)
    rest, errors = sandbox.communicate(timeout=30)
    assert sandbox.returncode == 0 and "sandbox stopped" in rest and "Traceback" not in errors
