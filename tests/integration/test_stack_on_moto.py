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
from pathlib import Path

import boto3
import orjson
import pytest
from moto.server import ThreadedMotoServer

from entrypoints import api_lambda
from tests.factories import a_record
from tests.integration.aws_stack import FAKE_CREDENTIALS, REGION
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


def deploy(endpoint: str) -> dict[str, str]:
    """Create the stack as a deploy would; returns its outputs."""
    ec2 = boto3.client("ec2", endpoint_url=endpoint)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    s3 = boto3.client("s3", endpoint_url=endpoint)
    s3.create_bucket(Bucket="sp-artifacts", CreateBucketConfiguration={"LocationConstraint": REGION})
    parameters = {
        "EnvironmentName": "test",
        "ApiImageUri": f"123456789012.dkr.ecr.{REGION}.amazonaws.com/servicepipe-api:0123abc",
        "ProcessorImageUri": f"123456789012.dkr.ecr.{REGION}.amazonaws.com/servicepipe-processor:0123abc",
        "ArtifactBucketName": "sp-artifacts",
        "VpcId": vpc,
        "SubnetIds": subnet,
    }
    cloudformation = boto3.client("cloudformation", endpoint_url=endpoint)
    cloudformation.create_stack(
        StackName="servicepipe-test",
        TemplateBody=(ROOT / "infra" / "template.yaml").read_text(),
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
        Capabilities=["CAPABILITY_IAM"],
    )
    (stack,) = cloudformation.describe_stacks(StackName="servicepipe-test")["Stacks"]
    assert stack["StackStatus"] == "CREATE_COMPLETE", stack.get("StackStatusReason")
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
    sqs = boto3.client("sqs", endpoint_url=endpoint)
    queue_arn = sqs.get_queue_attributes(QueueUrl=outputs["QueueUrl"], AttributeNames=["QueueArn"])["Attributes"]
    s3.put_bucket_notification_configuration(
        Bucket=outputs["RawBucketName"],
        NotificationConfiguration={
            "QueueConfigurations": [
                {
                    "QueueArn": queue_arn["QueueArn"],
                    "Events": ["s3:ObjectCreated:*"],
                    "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "service-records/"}]}},
                }
            ]
        },
    )
    sqs.purge_queue(QueueUrl=outputs["QueueUrl"])  # S3's test event
    return outputs


def test_the_template_deploys_and_the_pipeline_runs_on_its_outputs(endpoint, monkeypatch) -> None:
    outputs = deploy(endpoint)
    redrive = boto3.client("sqs").get_queue_attributes(QueueUrl=outputs["QueueUrl"], AttributeNames=["RedrivePolicy"])
    assert json.loads(redrive["Attributes"]["RedrivePolicy"])["maxReceiveCount"] in (5, "5")
    environment = {
        "RAW_BUCKET_NAME": outputs["RawBucketName"],
        "CLEANED_BUCKET_NAME": outputs["CleanedBucketName"],
        "ERROR_BUCKET_NAME": outputs["ErrorBucketName"],
        "SQS_QUEUE_URL": outputs["QueueUrl"],
        "DYNAMODB_TABLE_NAME": outputs["TableName"],
    }
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(api_lambda, "_adapter", None)

    body = orjson.dumps([a_record("SR-1"), a_record("SR-2", {"vehicle.vin": "SHORT"})])
    response = api_lambda.handler(api_gateway_event(body), LambdaContext())
    assert response["statusCode"] == 202, response["body"]

    child = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    child.update({**FAKE_CREDENTIALS, **environment, "AWS_ENDPOINT_URL": endpoint})
    worker = subprocess.run(
        [sys.executable, "-m", "entrypoints.fargate_worker", "--drain"],
        cwd=ROOT,
        env=child,
        capture_output=True,
        text=True,
    )
    assert worker.returncode == 0, worker.stderr
    loader = subprocess.run(
        [
            sys.executable,
            "-m",
            "entrypoints.glue_load_to_dynamo",
            "--DYNAMODB_TABLE_NAME",
            outputs["TableName"],
            "--SOURCE_BUCKET_NAME",
            outputs["CleanedBucketName"],
        ],
        cwd=ROOT,
        env=child,
        capture_output=True,
        text=True,
    )
    assert loader.returncode == 0, loader.stderr
    assert json.loads(loader.stdout.strip().splitlines()[-1])["records_loaded"] == 1
    items = boto3.resource("dynamodb").Table(outputs["TableName"]).scan()["Items"]
    assert [item["service_record_id"] for item in items] == ["SR-1"]
    rejected = boto3.client("s3").list_objects_v2(Bucket=outputs["ErrorBucketName"], Prefix="rejected/")
    assert rejected["KeyCount"] == 1
