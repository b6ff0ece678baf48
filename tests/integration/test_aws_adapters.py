"""Each AWS adapter against moto in-process."""

from __future__ import annotations

import math

import boto3
import pytest

from adapters.aws.dynamodb_repository import DynamoRecordRepository
from adapters.aws.s3_object_store import S3ObjectStore
from adapters.aws.sqs_queue import SqsQueue
from adapters.s3_events import object_keys
from application.errors import ObjectNotFound
from domain.record_identity import RecordKey


def test_s3_store_round_trip_metadata_and_streams(stack, clients) -> None:
    store = S3ObjectStore(clients, stack.cleaned_bucket)
    store.put_bytes("a/b.json", b"[1]", {"submission-id": "s-1"})
    assert store.read_bytes("a/b.json") == b"[1]"
    info = store.head("a/b.json")
    assert (info.size, info.metadata) == (3, {"submission-id": "s-1"})
    assert info.last_modified.tzinfo is not None
    with store.open_write("big/file.bin", {"ingested-at": "t"}) as sink:
        for _ in range(40):
            sink.write(b"x" * 1_000_000)  # past the spool size: goes through a temporary file
    with store.open_read("big/file.bin") as stream:
        assert len(stream.read()) == 40_000_000
    assert store.head("big/file.bin").metadata == {"ingested-at": "t"}
    assert store.exists("a/b.json") and not store.exists("a/nope")
    with pytest.raises(ObjectNotFound):
        store.head("a/nope")
    with pytest.raises(ObjectNotFound), store.open_read("a/nope"):
        pass


def test_s3_store_lists_past_a_thousand_keys(stack, clients) -> None:
    store = S3ObjectStore(clients, stack.cleaned_bucket)
    s3 = boto3.client("s3")
    for i in range(1_050):
        s3.put_object(Bucket=stack.cleaned_bucket, Key=f"dynamodb/date=2026-11-25/{i:05d}.jsonl", Body=b"")
    keys = list(store.list_keys("dynamodb/"))
    assert len(keys) == 1_050 and keys == sorted(keys)


def test_s3_store_failed_write_leaves_nothing(stack, clients) -> None:
    store = S3ObjectStore(clients, stack.cleaned_bucket)
    with pytest.raises(RuntimeError), store.open_write("half.bin") as sink:
        sink.write(b"partial")
        raise RuntimeError("killed")
    assert not store.exists("half.bin")


def test_raw_bucket_notifies_the_queue(stack, clients) -> None:
    S3ObjectStore(clients, stack.raw_bucket).put_bytes("service-records/date=2026-11-25/a b+c.json", b"[]")
    queue = SqsQueue(clients, stack.queue_url)
    messages = [m for m in queue.receive(10, 1) if "Records" in m.body]
    assert [object_keys(m.body) for m in messages] == [["service-records/date=2026-11-25/a b+c.json"]]


def test_sqs_queue_receive_delete_visibility_and_stats(stack, clients) -> None:
    boto3.client("sqs").purge_queue(QueueUrl=stack.queue_url)  # S3's test event
    queue = SqsQueue(clients, stack.queue_url)
    queue.send("one")
    (message,) = queue.receive(10, 0)
    assert message.body == "one" and message.receive_count == 1
    assert queue.stats().in_flight == 1
    queue.change_visibility(message.receipt_handle, 0)
    (again,) = queue.receive(10, 0)
    assert again.receive_count == 2
    queue.delete(again.receipt_handle)
    assert queue.stats() == queue.stats().__class__(0, 0, 0)


def test_sqs_queue_counts_the_dead_letter_queue(stack, clients) -> None:
    sqs = boto3.client("sqs")
    sqs.send_message(QueueUrl=stack.dlq_url, MessageBody="dead")
    assert SqsQueue(clients, stack.queue_url).stats().dead_letter == 1


def test_dynamodb_repository_round_trip_with_decimals(stack, clients) -> None:
    repo = DynamoRecordRepository(clients, stack.table_name)
    record = {
        "service_record_id": "SR-1",
        "dealer_id": "DLR-JKT-001",
        "vin": "MHFXX12G3K1234567",
        "service_date": "2026-11-20T03:30:00Z",
        "ingested_at": "2026-11-25T12:00:00Z",
        "service_details": {"total_cost": 650000.5, "parts_used": [{"quantity": 2, "unit_cost": 0.1}]},
        "bad_numbers": [math.nan, math.inf],
        "customer": {"customer_id": None},
    }
    assert repo.put_if_newer([record]) == 1
    stored = repo.get(RecordKey("DLR-JKT-001", "SR-1"))
    assert stored["service_details"] == {"total_cost": 650000.5, "parts_used": [{"quantity": 2, "unit_cost": 0.1}]}
    assert stored["bad_numbers"] == [None, None]
    assert repo.put_if_newer([{**record, "ingested_at": "2026-11-25T11:00:00Z"}]) == 0  # older: kept out
    assert repo.get(RecordKey("DLR-JKT-001", "SR-1"))["ingested_at"] == "2026-11-25T12:00:00Z"
    assert repo.get(RecordKey("DLR-JKT-001", "SR-2")) is None and repo.count() == 1


def test_dynamodb_writes_feed_the_vin_index(stack, clients) -> None:
    repo = DynamoRecordRepository(clients, stack.table_name)
    records = [
        {
            "service_record_id": f"SR-{i}",
            "dealer_id": "DLR-JKT-001",
            "vin": f"VIN{i % 3}",
            "service_date": f"2026-11-{10 + i % 20:02d}T00:00:00Z",
            "ingested_at": "2026-11-25T12:00:00Z",
        }
        for i in range(260)
    ]
    assert repo.put_if_newer(records) == 260
    assert repo.write_calls == 3 and repo.count() == 260  # transactions of 100
    history = boto3.client("dynamodb").query(
        TableName=stack.table_name,
        IndexName="vin-history-index",
        KeyConditionExpression="vin = :v",
        ExpressionAttributeValues={":v": {"S": "VIN0"}},
        ScanIndexForward=False,
    )["Items"]
    dates = [item["service_date"]["S"] for item in history]
    assert len(dates) == 87 and dates == sorted(dates, reverse=True)


def test_dynamodb_refuses_duplicate_keys_in_one_write(stack, clients) -> None:
    repo = DynamoRecordRepository(clients, stack.table_name)
    record = {"service_record_id": "SR-1", "dealer_id": "D", "ingested_at": "t"}
    with pytest.raises(ValueError, match="twice in one write"):
        repo.put_if_newer([record, record])
    assert repo.write_calls == 0


def test_no_client_is_created_before_first_use(aws_env) -> None:
    from adapters.aws.session import AwsClients

    clients = AwsClients()
    S3ObjectStore(clients, "bucket")
    SqsQueue(clients, "https://example.invalid/queue")
    DynamoRecordRepository(clients, "table")
    assert clients._clients == {}


def test_s3_reads_iterate_by_line(stack, clients) -> None:
    store = S3ObjectStore(clients, stack.cleaned_bucket)
    lines = [b"x" * 3000 + b"\n", b"short\n", b"last"]
    store.put_bytes("lines.jsonl", b"".join(lines))
    with store.open_read("lines.jsonl") as stream:
        assert list(stream) == lines


def test_a_message_that_is_not_an_s3_event_ends_in_the_dlq(stack, clients) -> None:
    from entrypoints.worker.loop import Worker

    sqs = boto3.client("sqs")
    sqs.purge_queue(QueueUrl=stack.queue_url)
    sqs.set_queue_attributes(QueueUrl=stack.queue_url, Attributes={"VisibilityTimeout": "0"})
    queue = SqsQueue(clients, stack.queue_url)
    queue.send('{"hello": "not an S3 event"}')
    processed: list[str] = []
    stats = Worker(queue, processed.append).run(drain=True)
    assert processed == [] and stats.failures == 5  # received 5 times, never deleted
    assert queue.stats().dead_letter == 1 and queue.stats().visible == 0


def test_s3_store_sets_the_content_type(stack, clients) -> None:
    store = S3ObjectStore(clients, stack.cleaned_bucket)
    store.put_bytes("a.jsonl", b"{}\n", content_type="application/x-ndjson")
    with store.open_write("b.json", {"submission-id": "s"}, content_type="application/json") as sink:
        sink.write(b"[]")
    s3 = boto3.client("s3")
    assert s3.head_object(Bucket=stack.cleaned_bucket, Key="a.jsonl")["ContentType"] == "application/x-ndjson"
    assert store.head("b.json").content_type == "application/json"
    assert store.head("b.json").metadata == {"submission-id": "s"}


def test_counting_the_table_never_scans_it(stack, clients) -> None:
    repo = DynamoRecordRepository(clients, stack.table_name)
    repo.put_if_newer(
        [{"service_record_id": f"SR-{i}", "dealer_id": "D", "ingested_at": "2026-11-25T00:00:00Z"} for i in range(3)]
    )
    client = clients.client("dynamodb")

    def no_scan(*args, **kwargs):
        raise AssertionError("a Scan reads the whole table")

    client.scan = no_scan
    client.get_paginator = no_scan
    assert repo.count() == 3 and repo.count_is_exact is False


def test_s3_store_delete_removes_and_tolerates_a_missing_key(stack, clients) -> None:
    store = S3ObjectStore(clients, stack.error_bucket)
    store.put_bytes("rejected/date=2026-11-25/a.jsonl", b"{}\n")
    store.delete("rejected/date=2026-11-25/a.jsonl")
    store.delete("rejected/date=2026-11-25/a.jsonl")  # again: nothing there, no error
    assert not store.exists("rejected/date=2026-11-25/a.jsonl")
