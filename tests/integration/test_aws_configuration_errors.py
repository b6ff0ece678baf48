"""A missing bucket, queue or table is a configuration error, never a vanished raw object:
the message stays for a retry (then the DLQ), the log names the setting, and the worker and
the loader refuse to start."""

from __future__ import annotations

import logging

import boto3
import orjson
import pytest

from adapters.aws.dynamodb_repository import DynamoRecordRepository
from adapters.aws.s3_object_store import S3ObjectStore
from adapters.aws.sqs_queue import SqsQueue
from adapters.clock import SystemClock
from application.errors import ConfigurationError, ObjectNotFound
from application.processing.process_raw_file import ProcessRawFile
from entrypoints.cli import main as cli
from entrypoints.worker.loop import Worker
from tests.factories import a_record

RAW_KEY = "service-records/date=2026-11-25/12-00-00_sub-1.json"


def test_a_typo_in_the_cleaned_bucket_keeps_the_message_until_the_dlq(stack, clients, caplog) -> None:
    sqs = boto3.client("sqs")
    sqs.purge_queue(QueueUrl=stack.queue_url)
    raw = S3ObjectStore(clients, stack.raw_bucket, setting="RAW_BUCKET_NAME")
    raw.put_bytes(RAW_KEY, orjson.dumps([a_record("SR-1")]))
    cleaned = S3ObjectStore(clients, "sp-cleanedd", setting="CLEANED_BUCKET_NAME")
    errors = S3ObjectStore(clients, stack.error_bucket, setting="ERROR_BUCKET_NAME")
    queue = SqsQueue(clients, stack.queue_url)
    worker = Worker(queue, ProcessRawFile(raw, cleaned, errors, SystemClock()))
    caplog.set_level(logging.ERROR)
    for _ in range(5):
        (message,) = queue.receive(1, 1)
        assert worker.handle(message) is False
        queue.change_visibility(message.receipt_handle, 0)
    assert queue.receive(1, 1) == []
    assert queue.stats().dead_letter == 1
    assert raw.exists(RAW_KEY)  # the raw file is intact
    errors_logged = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert errors_logged and all("CLEANED_BUCKET_NAME" in r.getMessage() + str(r.__dict__) for r in errors_logged)


def test_a_missing_raw_bucket_is_a_configuration_error_not_a_missing_object(stack, clients) -> None:
    store = S3ObjectStore(clients, "no-such-raw-bucket", setting="RAW_BUCKET_NAME")
    for call in (lambda: store.head("k"), lambda: store.read_bytes("k"), lambda: store.put_bytes("k", b"x")):
        with pytest.raises(ConfigurationError, match="RAW_BUCKET_NAME"):
            call()
    with pytest.raises(ObjectNotFound):
        S3ObjectStore(clients, stack.raw_bucket).head("no/such/key")


def test_missing_resources_fail_their_check(stack, clients) -> None:
    S3ObjectStore(clients, stack.raw_bucket).verify()
    SqsQueue(clients, stack.queue_url).verify()
    DynamoRecordRepository(clients, stack.table_name).verify()
    with pytest.raises(ConfigurationError, match="CLEANED_BUCKET_NAME"):
        S3ObjectStore(clients, "nope", setting="CLEANED_BUCKET_NAME").verify()
    missing_queue = stack.queue_url.rsplit("/", 1)[0] + "/no-such-queue"
    with pytest.raises(ConfigurationError, match="SQS_QUEUE_URL"):
        SqsQueue(clients, missing_queue).verify()
    with pytest.raises(ConfigurationError, match="DYNAMODB_TABLE_NAME"):
        DynamoRecordRepository(clients, "no_such_table").verify()


@pytest.mark.parametrize(
    ("command", "variable"),
    [
        (["worker", "--drain"], "CLEANED_BUCKET_NAME"),
        (["worker", "--drain"], "SQS_QUEUE_URL"),
        (["load"], "DYNAMODB_TABLE_NAME"),
        (["load"], "CLEANED_BUCKET_NAME"),
    ],
)
def test_worker_and_loader_refuse_to_start_with_a_missing_resource(
    stack, monkeypatch, capsys, command, variable
) -> None:
    for name, value in stack.environment().items():
        monkeypatch.setenv(name, value)
    wrong = stack.queue_url + "-typo" if variable == "SQS_QUEUE_URL" else "typo-" + variable.lower().replace("_", "-")
    monkeypatch.setenv(variable, wrong)
    boto3.client("sqs").purge_queue(QueueUrl=stack.queue_url)  # S3's test event
    boto3.client("s3").put_object(Bucket=stack.raw_bucket, Key=RAW_KEY, Body=orjson.dumps([a_record()]))
    code = cli.main(["--backend", "aws", *command])
    assert code != 0
    err = capsys.readouterr().err
    assert variable in err and "Traceback" not in err
    if command[0] == "worker":  # nothing was received, so nothing was lost
        assert (
            boto3.client("sqs").get_queue_attributes(
                QueueUrl=stack.queue_url, AttributeNames=["ApproximateNumberOfMessages"]
            )["Attributes"]["ApproximateNumberOfMessages"]
            == "1"
        )
