"""DynamoDB newer-wins writes, driven by fake clients: moto never throttles."""

from __future__ import annotations

import random
import threading
import time

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from adapters.aws.dynamodb_repository import NEWER_WINS, WRITE_CONCURRENCY, DynamoRecordRepository, serialize
from application.errors import TransientError


class StubClients:
    def __init__(self, client) -> None:
        self._client = client

    def client(self, service: str):
        return self._client


def records(n: int, ingested_at: str = "2026-11-25T00:00:00.000000Z") -> list[dict]:
    return [{"service_record_id": f"SR-{i}", "ingested_at": ingested_at, "total": 1.5} for i in range(n)]


def client_error(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": code}}, "PutItem")


def test_each_record_is_one_conditional_put() -> None:
    client = boto3.client("dynamodb", region_name="ap-southeast-3", aws_access_key_id="x", aws_secret_access_key="x")
    (record,) = records(1)
    with Stubber(client) as stubber:
        stubber.add_response(
            "put_item",
            {},
            {
                "TableName": "service_records",
                "Item": serialize(record),
                "ConditionExpression": NEWER_WINS,
                "ExpressionAttributeNames": {"#at": "ingested_at"},
                "ExpressionAttributeValues": {":at": {"S": record["ingested_at"]}, ":text": {"S": "S"}},
            },
        )
        assert DynamoRecordRepository(StubClients(client), "service_records").put_if_newer([record]) == 1
        stubber.assert_no_pending_responses()


class FakeDynamo:
    """Stores items; fails the condition for ids in ``newer``; throttles the first tries of
    ids in ``throttled``; records the most calls in flight at once."""

    def __init__(self, newer=(), throttled: dict[str, int] | None = None, seconds: float = 0) -> None:
        self.items: dict[str, dict] = {}
        self.newer, self.throttled, self.seconds = set(newer), dict(throttled or {}), seconds
        self.in_flight = self.most_in_flight = 0
        self.lock = threading.Lock()

    def put_item(self, **request):
        record_id = request["Item"]["service_record_id"]["S"]
        with self.lock:
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            time.sleep(self.seconds)
            with self.lock:
                if self.throttled.get(record_id, 0) > 0:
                    self.throttled[record_id] -= 1
                    raise client_error("ProvisionedThroughputExceededException")
                if record_id in self.newer:
                    raise client_error("ConditionalCheckFailedException")
                self.items[record_id] = request["Item"]
            return {}
        finally:
            with self.lock:
                self.in_flight -= 1


def test_an_item_with_a_newer_ingested_at_is_kept_and_counted_as_skipped() -> None:
    fake = FakeDynamo(newer={"SR-1", "SR-3"})
    repo = DynamoRecordRepository(StubClients(fake), "service_records")
    assert repo.put_if_newer(records(5)) == 3
    assert sorted(fake.items) == ["SR-0", "SR-2", "SR-4"]


def test_throttled_writes_are_retried_with_backoff_until_written() -> None:
    fake = FakeDynamo(throttled={"SR-0": 2, "SR-7": 1})
    sleeps: list[float] = []
    repo = DynamoRecordRepository(StubClients(fake), "service_records", sleep=sleeps.append, rng=random.Random(1))
    assert repo.put_if_newer(records(10)) == 10 and len(fake.items) == 10
    assert repo.write_calls == 13 and len(sleeps) == 3
    assert all(0 <= s <= 0.1 for s in sleeps)  # full jitter under a doubling cap


def test_a_write_throttled_every_time_raises_a_transient_error() -> None:
    fake = FakeDynamo(throttled={"SR-0": 100})
    repo = DynamoRecordRepository(StubClients(fake), "service_records", sleep=lambda s: None)
    with pytest.raises(TransientError, match="busy"):
        repo.put_if_newer(records(1))


def test_writes_in_flight_are_bounded() -> None:
    fake = FakeDynamo(seconds=0.01)
    repo = DynamoRecordRepository(StubClients(fake), "service_records")
    assert repo.put_if_newer(records(200)) == 200
    assert 1 < fake.most_in_flight <= WRITE_CONCURRENCY


def test_load_batch_never_sends_one_key_twice_in_one_call(cleaned, clock) -> None:
    from application.load_batch import LoadBatch
    from tests.factories import put_cleaned

    ids = [f"SR-{i % 40}" for i in range(120)]  # every id three times
    put_cleaned(
        cleaned,
        "dynamodb/date=2026-11-25/a.jsonl",
        *({"service_record_id": i, "ingested_at": "2026-11-25T00:00:00Z", "n": n} for n, i in enumerate(ids)),
    )
    fake = FakeDynamo()
    report = LoadBatch(cleaned, DynamoRecordRepository(StubClients(fake), "service_records"), clock)()
    assert report.ok and len(fake.items) == 40
    assert fake.items["SR-0"]["n"] == {"N": "80"}  # the file's last line for an id wins


def test_the_connection_pool_holds_every_write_in_flight(monkeypatch) -> None:
    from adapters.aws.session import AwsClients

    monkeypatch.setenv("AWS_DEFAULT_REGION", "ap-southeast-3")
    client = AwsClients().client("dynamodb")  # no request is made
    assert client.meta.config.max_pool_connections >= WRITE_CONCURRENCY
