"""``make sandbox``: the deployed shape of servicepipe on one machine, without an AWS account.

Starts a moto server on localhost, deploys ``infra/template.yaml`` to it through
CloudFormation (wiring the raw bucket's notification, which moto skips in templates), runs
the sample pipeline against the stack's outputs as production runs it (the Lambda handler,
the Fargate worker, the Glue loader), prints the outputs, the table's count and the ``aws``
commands to look around, then waits until Ctrl-C.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import boto3
import orjson

ROOT = Path(__file__).resolve().parents[1]
REGION = "ap-southeast-3"
STACK = "servicepipe-sandbox"
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "sandbox",
    "AWS_SECRET_ACCESS_KEY": "sandbox",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
}


def deploy_to_moto(endpoint: str, environment_name: str = "sandbox") -> dict[str, str]:
    """Create the stack on the moto server at ``endpoint``; returns its outputs."""

    def client(service: str) -> Any:
        return boto3.client(service, endpoint_url=endpoint, region_name=REGION)

    ec2 = client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    s3 = client("s3")
    artifacts = f"servicepipe-{environment_name}-artifacts"
    s3.create_bucket(Bucket=artifacts, CreateBucketConfiguration={"LocationConstraint": REGION})
    registry = f"123456789012.dkr.ecr.{REGION}.amazonaws.com"
    parameters = {
        "EnvironmentName": environment_name,
        "ApiImageUri": f"{registry}/servicepipe-api:sandbox",
        "ProcessorImageUri": f"{registry}/servicepipe-processor:sandbox",
        "ArtifactBucketName": artifacts,
        "VpcId": vpc,
        "SubnetIds": subnet,
    }
    from infra.render_template import render

    cloudformation = client("cloudformation")
    cloudformation.create_stack(
        StackName=f"servicepipe-{environment_name}",
        TemplateBody=render((ROOT / "infra" / "template.yaml").read_text()),  # as deploy.sh deploys it
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
        Capabilities=["CAPABILITY_IAM"],
    )
    (stack,) = cloudformation.describe_stacks(StackName=f"servicepipe-{environment_name}")["Stacks"]
    if stack["StackStatus"] != "CREATE_COMPLETE":
        raise RuntimeError(f"the stack did not deploy: {stack['StackStatus']} {stack.get('StackStatusReason')}")
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
    sqs = client("sqs")
    queue_arn = sqs.get_queue_attributes(QueueUrl=outputs["QueueUrl"], AttributeNames=["QueueArn"])
    # moto skips a bucket's NotificationConfiguration in a template: the template's own is set
    # through the API, so the sandbox notifies exactly as the deployed bucket does.
    s3.put_bucket_notification_configuration(
        Bucket=outputs["RawBucketName"],
        NotificationConfiguration=notification_of_raw_bucket(queue_arn["Attributes"]["QueueArn"]),
    )
    sqs.purge_queue(QueueUrl=outputs["QueueUrl"])  # S3's test event
    return outputs


def notification_of_raw_bucket(queue_arn: str) -> dict[str, Any]:
    """The raw bucket's ``NotificationConfiguration`` in infra/template.yaml, in S3's API shape,
    with ``queue_arn`` for the queue it names."""
    from cfnlint.decode import cfn_yaml

    template = cfn_yaml.load(str(ROOT / "infra" / "template.yaml"))
    declared = template["Resources"]["RawBucket"]["Properties"]["NotificationConfiguration"]
    queues = []
    for entry in declared["QueueConfigurations"]:
        if entry["Queue"] != {"Fn::GetAtt": ["ProcessingQueue", "Arn"]}:
            raise ValueError(f"the raw bucket notifies a queue the sandbox does not know: {entry['Queue']}")
        rules = entry.get("Filter", {}).get("S3Key", {}).get("Rules", [])
        configuration: dict[str, Any] = {"QueueArn": queue_arn, "Events": [entry["Event"]]}
        if rules:
            filter_rules = [{"Name": rule["Name"], "Value": rule["Value"]} for rule in rules]
            configuration["Filter"] = {"Key": {"FilterRules": filter_rules}}
        queues.append(configuration)
    return {"QueueConfigurations": queues}


def stack_environment(outputs: dict[str, str]) -> dict[str, str]:
    """The entrypoints' environment for a deployed stack."""
    return {
        "RAW_BUCKET_NAME": outputs["RawBucketName"],
        "CLEANED_BUCKET_NAME": outputs["CleanedBucketName"],
        "ERROR_BUCKET_NAME": outputs["ErrorBucketName"],
        "SQS_QUEUE_URL": outputs["QueueUrl"],
        "DYNAMODB_TABLE_NAME": outputs["TableName"],
        "SERVICEPIPE_ENVIRONMENT": outputs["EnvironmentName"],
        "API_KEYS_TABLE_NAME": outputs["ApiKeysTableName"],
        "RECORD_INDEX_TABLE_NAME": outputs["RecordIndexTableName"],
        "PSEUDONYM_KEY_SECRET_ARN": outputs["PseudonymKeySecretArn"],
    }


def proxy_event(body: bytes, key: str) -> dict[str, Any]:
    """An API Gateway REST (v1) proxy event for ``POST /service-records`` with ``key``."""
    headers = {"Content-Type": "application/json", "Host": "sandbox", "x-api-key": key}
    return {
        "resource": "/service-records",
        "path": "/service-records",
        "httpMethod": "POST",
        "headers": headers,
        "multiValueHeaders": {name: [value] for name, value in headers.items()},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": "/service-records",
            "httpMethod": "POST",
            "path": "/v1/service-records",
            "stage": "v1",
            "requestId": "sandbox",
            "identity": {"apiKeyId": "sandbox-dealer", "sourceIp": "127.0.0.1"},
        },
        "body": body.decode(),
        "isBase64Encoded": False,
    }


def run_worker_and_loader(
    env: dict[str, str], outputs: dict[str, str]
) -> tuple[subprocess.CompletedProcess[str], subprocess.CompletedProcess[str]]:
    """The Fargate worker (until the queue is empty), then the Glue loader, as processes."""

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, env=env, capture_output=True, text=True)

    worker = run("entrypoints.worker.fargate", "--drain")
    table, cleaned = outputs["TableName"], outputs["CleanedBucketName"]
    loader = run(
        "entrypoints.loader.glue_load_to_dynamo",
        *("--DYNAMODB_TABLE_NAME", table, "--SOURCE_BUCKET_NAME", cleaned),
        *("--ENVIRONMENT_NAME", outputs["EnvironmentName"]),
    )
    return worker, loader


def admin_key(outputs: dict[str, str]) -> str:
    """An admin key in the stack's key table, for the sample submissions (which span dealers).
    moto does not stand API Gateway in front of the handler, so the key is not registered there."""
    from adapters.aws.dynamodb_api_keys import DynamoApiKeyStore
    from adapters.aws.session import AwsClients
    from adapters.clock import SystemClock
    from application.access.api_keys import IssueApiKey

    store = DynamoApiKeyStore(AwsClients(), outputs["ApiKeysTableName"])
    return IssueApiKey(store, SystemClock())(None, admin=True)[1]


def run_pipeline(endpoint: str, outputs: dict[str, str], records: int = 500) -> dict[str, Any]:
    """Sample records through the Lambda handler, then the worker and the loader as processes."""
    from entrypoints.api import lambda_handler as api_lambda
    from entrypoints.sample_data import generate_records

    environment = {**CREDENTIALS, **stack_environment(outputs), "AWS_ENDPOINT_URL": endpoint}
    os.environ.update(environment)
    api_lambda._adapter = None
    key = admin_key(outputs)
    sample = list(generate_records(records, seed=42))
    accepted = 0
    for start in range(0, len(sample), 100):
        response = api_lambda.handler(proxy_event(orjson.dumps(sample[start : start + 100]), key), None)
        accepted += response["statusCode"] == 202
    child = {**{k: v for k, v in os.environ.items() if not k.startswith("AWS_")}, **environment}
    worker, loader = run_worker_and_loader(child, outputs)
    if worker.returncode or loader.returncode:
        raise RuntimeError(f"the pipeline failed:\n{worker.stderr[-2000:]}\n{loader.stderr[-2000:]}")
    table = boto3.client("dynamodb", endpoint_url=endpoint, region_name=REGION)
    count = table.scan(TableName=outputs["TableName"], Select="COUNT")["Count"]
    return {
        "submissions_accepted": accepted,
        "load": json.loads(loader.stdout.strip().splitlines()[-1]),
        "table": count,
    }


def main() -> int:
    from moto.server import ThreadedMotoServer

    from infra.moto_compat import secrets_in_cloudformation, serialise_dynamodb_transactions

    serialise_dynamodb_transactions()
    secrets_in_cloudformation()

    # moto says, per resource, what its CloudFormation skips (alarms, scaling, Glue): known.
    warnings.filterwarnings("ignore", message="Tried to parse")
    logging.getLogger("moto").setLevel(logging.ERROR)
    os.environ.setdefault("SERVICEPIPE_LOG_LEVEL", "WARNING")

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=int(os.environ.get("SANDBOX_PORT", "0")), verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    try:
        print(f"moto server on {endpoint}; deploying infra/template.yaml through CloudFormation ...", flush=True)
        for name, value in CREDENTIALS.items():
            os.environ[name] = value
        outputs = deploy_to_moto(endpoint)
        print("stack outputs:")
        for name, value in outputs.items():
            print(f"  {name:<20}{value}")
        print("running the sample pipeline: API handler, Fargate worker, Glue loader ...", flush=True)
        result = run_pipeline(endpoint, outputs)
        print(
            f"{result['submissions_accepted']} submissions accepted; loaded {result['load']['records_loaded']:,} "
            f"records; the table holds {result['table']:,}"
        )
        aws = f"AWS_ACCESS_KEY_ID=sandbox AWS_SECRET_ACCESS_KEY=sandbox aws --endpoint-url {endpoint} --region {REGION}"
        print("look around (while this runs):")
        print(f"  {aws} s3 ls s3://{outputs['CleanedBucketName']}/ --recursive | head")
        print(f"  {aws} s3 ls s3://{outputs['ErrorBucketName']}/rejected/ --recursive")
        print(f"  {aws} dynamodb scan --table-name {outputs['TableName']} --max-items 2")
        print(f"  {aws} sqs get-queue-attributes --queue-url {outputs['QueueUrl']} --attribute-names All")
        if os.environ.get("SANDBOX_STAY", "1") == "1":
            with contextlib.suppress(KeyboardInterrupt):  # from here on, Ctrl-C is the way out
                print("Ctrl-C stops the sandbox.", flush=True)
                signal.pause()
    finally:
        server.stop()
        print("sandbox stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
