"""DynamoDB batch writes driven with botocore's Stubber: moto never throttles."""

from __future__ import annotations

import math
import random

import boto3
import pytest
from botocore.stub import Stubber

from adapters.aws.dynamodb_repository import WRITE_BATCH, DynamoRecordRepository, serialize
from application.errors import TransientError


class StubClients:
    def __init__(self, client) -> None:
        self._client = client

    def client(self, service: str):
        return self._client


def records(n: int, start: int = 0) -> list[dict]:
    return [
        {"service_record_id": f"SR-{i}", "ingested_at": "2026-11-25T00:00:00Z", "total": 1.5}
        for i in range(start, start + n)
    ]


def put_requests(items: list[dict]) -> list[dict]:
    return [{"PutRequest": {"Item": serialize(r)}} for r in items]


@pytest.fixture
def dynamodb():
    client = boto3.client("dynamodb", region_name="ap-southeast-3", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


@pytest.mark.parametrize("n", [1, 24, 25, 26, 100, 101])
def test_exactly_ceil_n_over_25_calls_when_nothing_is_throttled(dynamodb, n) -> None:
    client, stubber = dynamodb
    items = records(n)
    for start in range(0, n, WRITE_BATCH):
        stubber.add_response(
            "batch_write_item",
            {"UnprocessedItems": {}},
            {"RequestItems": {"service_records": put_requests(items[start : start + WRITE_BATCH])}},
        )
    repo = DynamoRecordRepository(StubClients(client), "service_records", sleep=lambda s: None)
    repo.put_many(items)
    assert repo.write_calls == math.ceil(n / 25)


def test_throttled_items_are_retried_with_backoff_until_written(dynamodb) -> None:
    client, stubber = dynamodb
    items = records(25)
    first_left, second_left = put_requests(items[5:]), put_requests(items[20:])
    stubber.add_response(
        "batch_write_item",
        {"UnprocessedItems": {"service_records": first_left}},
        {"RequestItems": {"service_records": put_requests(items)}},
    )
    stubber.add_response(
        "batch_write_item",
        {"UnprocessedItems": {"service_records": second_left}},
        {"RequestItems": {"service_records": first_left}},
    )
    stubber.add_response(
        "batch_write_item", {"UnprocessedItems": {}}, {"RequestItems": {"service_records": second_left}}
    )
    sleeps: list[float] = []
    repo = DynamoRecordRepository(StubClients(client), "service_records", sleep=sleeps.append, rng=random.Random(1))
    repo.put_many(items)
    assert repo.write_calls == 3 and len(sleeps) == 2
    assert 0 <= sleeps[0] <= 0.05 and 0 <= sleeps[1] <= 0.1  # full jitter under a doubling cap


def test_items_never_written_raise_a_transient_error(dynamodb) -> None:
    client, stubber = dynamodb
    items = records(2)
    for _ in range(8):
        stubber.add_response("batch_write_item", {"UnprocessedItems": {"service_records": put_requests(items)}})
    repo = DynamoRecordRepository(StubClients(client), "service_records", sleep=lambda s: None)
    with pytest.raises(TransientError, match="unprocessed"):
        repo.put_many(items)


def test_throttling_errors_become_transient(dynamodb) -> None:
    client, stubber = dynamodb
    stubber.add_client_error("batch_write_item", "ProvisionedThroughputExceededException", http_status_code=400)
    repo = DynamoRecordRepository(StubClients(client), "service_records", sleep=lambda s: None)
    with pytest.raises(TransientError, match="busy"):
        repo.put_many(records(1))


def test_unprocessed_keys_of_a_batch_get_are_read_again(dynamodb) -> None:
    client, stubber = dynamodb
    key = {"service_record_id": {"S": "SR-1"}}
    stubber.add_response(
        "batch_get_item",
        {"Responses": {"service_records": []}, "UnprocessedKeys": {"service_records": {"Keys": [key]}}},
    )
    stubber.add_response(
        "batch_get_item",
        {"Responses": {"service_records": [{"service_record_id": {"S": "SR-1"}, "ingested_at": {"S": "t"}}]}},
    )
    repo = DynamoRecordRepository(StubClients(client), "service_records", sleep=lambda s: None)
    assert repo.ingested_at_of(["SR-1", "SR-1"]) == {"SR-1": "t"}


class RecordingDynamo:
    """A fake low-level client that stores what it is sent."""

    def __init__(self) -> None:
        self.writes: list[list[str]] = []

    def batch_write_item(self, RequestItems):  # noqa: N803 - boto3's parameter name
        (requests,) = RequestItems.values()
        self.writes.append([r["PutRequest"]["Item"]["service_record_id"]["S"] for r in requests])
        return {"UnprocessedItems": {}}

    def batch_get_item(self, RequestItems):  # noqa: N803
        return {"Responses": {}}


def test_load_batch_never_sends_a_key_twice_in_one_request(cleaned, clock) -> None:
    from application.load_batch import LoadBatch
    from tests.factories import put_cleaned

    ids = [f"SR-{i % 40}" for i in range(120)]  # every id three times
    put_cleaned(
        cleaned,
        "dynamodb/date=2026-11-25/a.jsonl",
        *({"service_record_id": i, "ingested_at": "2026-11-25T00:00:00Z"} for i in ids),
    )
    fake = RecordingDynamo()
    repo = DynamoRecordRepository(StubClients(fake), "service_records", sleep=lambda s: None)
    report = LoadBatch(cleaned, repo, clock, batch_records=50)()
    assert report.ok
    assert all(len(batch) == len(set(batch)) <= 25 for batch in fake.writes)
    assert {i for batch in fake.writes for i in batch} == set(ids)
