"""The AWS resources servicepipe needs, created in moto (in-process or a moto server)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3

TEMPLATE = Path(__file__).resolve().parents[2] / "infra" / "template.yaml"
REGION = "ap-southeast-3"  # Jakarta
ANALYTICS_DATABASE = "sp_analytics"
RECORD_INDEX_TABLE = "sp-record-index"
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
}


@dataclass
class AwsStack:
    raw_bucket: str
    cleaned_bucket: str
    error_bucket: str
    queue_url: str
    dlq_url: str
    table_name: str
    api_keys_table: str = "sp-api-keys"
    admin_key: str = ""  # an admin key issued into api_keys_table
    analytics_database: str = ANALYTICS_DATABASE
    record_index_table: str = RECORD_INDEX_TABLE
    pseudonym_key_secret: str = ""  # the secret's ARN

    def environment(self) -> dict[str, str]:
        """The entrypoints' environment contract for this stack."""
        return {
            **FAKE_CREDENTIALS,
            "RAW_BUCKET_NAME": self.raw_bucket,
            "CLEANED_BUCKET_NAME": self.cleaned_bucket,
            "ERROR_BUCKET_NAME": self.error_bucket,
            "SQS_QUEUE_URL": self.queue_url,
            "DYNAMODB_TABLE_NAME": self.table_name,
            "API_KEYS_TABLE_NAME": self.api_keys_table,
            "ANALYTICS_DATABASE_NAME": self.analytics_database,
            "RECORD_INDEX_TABLE_NAME": self.record_index_table,
            "PSEUDONYM_KEY_SECRET_ARN": self.pseudonym_key_secret,
        }


def record_table_keys(resource: str = "ServiceRecordsTable") -> dict[str, Any]:
    """A table's keys and indexes, as infra/template.yaml declares them."""
    from cfnlint.decode import cfn_yaml

    table = cfn_yaml.load(str(TEMPLATE))["Resources"][resource]["Properties"]
    names = ("AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes")
    return {name: table[name] for name in names if name in table}


def create_stack(endpoint_url: str | None = None, max_receives: int = 5, visibility_timeout: int = 30) -> AwsStack:
    def client(name: str):
        return boto3.client(name, region_name=REGION, endpoint_url=endpoint_url)

    s3, sqs, dynamodb = client("s3"), client("sqs"), client("dynamodb")
    buckets = ("sp-raw", "sp-cleaned", "sp-error")
    for bucket in buckets:  # versioned, as the template's are
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    dlq_url = sqs.create_queue(QueueName="sp-raw-events-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    queue_url = sqs.create_queue(
        QueueName="sp-raw-events",
        Attributes={
            "VisibilityTimeout": str(visibility_timeout),
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(max_receives)}),
        },
    )["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    s3.put_bucket_notification_configuration(
        Bucket="sp-raw",
        NotificationConfiguration={
            "QueueConfigurations": [
                {
                    "QueueArn": queue_arn,
                    "Events": ["s3:ObjectCreated:*"],
                    "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "service-records/"}]}},
                }
            ]
        },
    )
    _consume_s3_test_event(sqs, queue_url)
    dynamodb.create_table(TableName="service_records", BillingMode="PAY_PER_REQUEST", **record_table_keys())
    dynamodb.create_table(
        TableName="sp-api-keys",
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "key_id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "key_id", "KeyType": "HASH"}],
    )
    client("glue").create_database(DatabaseInput={"Name": ANALYTICS_DATABASE})
    dynamodb.create_table(
        TableName=RECORD_INDEX_TABLE, BillingMode="PAY_PER_REQUEST", **record_table_keys("RecordIndexTable")
    )
    secret = client("secretsmanager").create_secret(Name="sp-pseudonym-key", SecretString="k" * 64)["ARN"]
    admin = issue_key(dynamodb, "sp-api-keys")
    return AwsStack(*buckets, queue_url, dlq_url, "service_records", "sp-api-keys", admin, pseudonym_key_secret=secret)


def _consume_s3_test_event(sqs: Any, queue_url: str) -> None:
    """S3 sends an ``s3:TestEvent`` when a notification is configured; a deployed stack's
    worker deleted it long ago. Gone here too, so that a test's queue holds its own messages
    only (a worker stopping as it received the test event would give it back, not lose it)."""
    for message in sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", []):
        assert json.loads(message["Body"]).get("Event") == "s3:TestEvent", message["Body"]
        sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])


def issue_key(dynamodb: object, table: str, dealer_id: str | None = None) -> str:
    """A key issued into ``table`` through the application's own use-case (admin by default)."""
    from adapters.aws.dynamodb_api_keys import DynamoApiKeyStore
    from adapters.clock import SystemClock
    from application.access.api_keys import IssueApiKey

    class Clients:
        def client(self, service: str) -> object:
            return dynamodb

    _, key = IssueApiKey(DynamoApiKeyStore(Clients(), table), SystemClock())(  # type: ignore[arg-type]
        dealer_id, admin=dealer_id is None
    )
    return key
