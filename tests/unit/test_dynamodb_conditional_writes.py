"""DynamoDB newer-wins writes, driven by fake clients: moto never throttles."""

from __future__ import annotations

import random
import threading
import time
from unittest.mock import patch

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from adapters.aws.dynamodb_repository import (
    NEWER_WINS,
    TRANSACTION_BYTES,
    TRANSACTIONS_IN_FLIGHT,
    DynamoRecordRepository,
    serialize,
)
from adapters.history_order import POSITION, history_position
from application.errors import TransientError


class StubClients:
    def __init__(self, client) -> None:
        self._client = client

    def client(self, service: str):
        return self._client


def records(n: int, ingested_at: str = "2026-11-25T00:00:00.000000Z") -> list[dict]:
    return [
        {"service_record_id": f"SR-{i}", "dealer_id": "DLR-JKT-001", "ingested_at": ingested_at, "total": 1.5}
        for i in range(n)
    ]


def client_error(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": code}}, "PutItem")


def test_records_go_up_to_a_hundred_conditional_puts_a_transaction() -> None:
    client = boto3.client("dynamodb", region_name="ap-southeast-3", aws_access_key_id="x", aws_secret_access_key="x")
    batch = records(150)
    with Stubber(client) as stubber:
        for part in (batch[:100], batch[100:]):
            puts = [
                {
                    "Put": {
                        "TableName": "service_records",
                        "Item": serialize({**record, POSITION: history_position(record)}),
                        "ConditionExpression": NEWER_WINS,
                        "ExpressionAttributeNames": {"#at": "ingested_at"},
                        "ExpressionAttributeValues": {":at": {"S": record["ingested_at"]}, ":text": {"S": "S"}},
                    }
                }
                for record in part
            ]
            stubber.add_response("transact_write_items", {}, {"TransactItems": puts})
        repo = DynamoRecordRepository(StubClients(client), "service_records")
        with patch("adapters.aws.dynamodb_repository.TRANSACTIONS_IN_FLIGHT", 1):  # the stub answers in order
            assert repo.put_if_newer(batch) == 150
        stubber.assert_no_pending_responses()


def test_a_transaction_carries_at_most_3_mb_of_records() -> None:
    fake = FakeDynamo()
    big = [{**record, "notes": "x" * 100_000} for record in records(70)]  # 7 MB in all
    repo = DynamoRecordRepository(StubClients(fake), "service_records")
    assert repo.put_if_newer(big) == 70 and len(fake.items) == 70
    assert fake.largest_call <= TRANSACTION_BYTES and repo.write_calls == 3


class FakeDynamo:
    """TransactWriteItems as DynamoDB answers it: all or nothing, with a reason per item.
    Fails the condition for ids in ``newer``; throttles every ``throttle_every``-th call of
    each writing thread, and the first tries of ids in ``throttled``; records the most calls
    in flight at once."""

    def __init__(
        self, newer=(), throttled: dict[str, int] | None = None, seconds: float = 0, throttle_every: int = 0
    ) -> None:
        self.items: dict[str, dict] = {}
        self.writes: dict[str, int] = {}
        self.newer, self.throttled, self.seconds = set(newer), dict(throttled or {}), seconds
        self.throttle_every, self.calls = throttle_every, 0
        self.calls_of_thread: dict[int, int] = {}
        self.in_flight = self.most_in_flight = self.largest_call = 0
        self.lock = threading.Lock()

    def transact_write_items(self, TransactItems):
        with self.lock:
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
            self.calls += 1
            thread = threading.get_ident()
            call = self.calls_of_thread[thread] = self.calls_of_thread.get(thread, 0) + 1
            self.largest_call = max(self.largest_call, len(repr(TransactItems)))
        try:
            time.sleep(self.seconds)
            with self.lock:
                if self.throttle_every and call % self.throttle_every == 0:
                    raise client_error("ThrottlingException")
                reasons = []
                for action in TransactItems:
                    record_id = action["Put"]["Item"]["service_record_id"]["S"]
                    if self.throttled.get(record_id, 0) > 0:
                        self.throttled[record_id] -= 1
                        reasons.append({"Code": "ThrottlingError"})
                    elif record_id in self.newer:
                        reasons.append({"Code": "ConditionalCheckFailed"})
                    else:
                        reasons.append({"Code": "None"})
                if any(r["Code"] != "None" for r in reasons):
                    raise ClientError(
                        {"Error": {"Code": "TransactionCanceledException"}, "CancellationReasons": reasons},
                        "TransactWriteItems",
                    )
                for action in TransactItems:
                    record_id = action["Put"]["Item"]["service_record_id"]["S"]
                    self.items[record_id] = action["Put"]["Item"]
                    self.writes[record_id] = self.writes.get(record_id, 0) + 1
            return {}
        finally:
            with self.lock:
                self.in_flight -= 1


def test_an_item_with_a_newer_ingested_at_is_kept_and_counted_as_skipped() -> None:
    fake = FakeDynamo(newer={"SR-1", "SR-3"})
    repo = DynamoRecordRepository(StubClients(fake), "service_records", sleep=pytest.fail)  # no backoff
    assert repo.put_if_newer(records(5)) == 3
    assert sorted(fake.items) == ["SR-0", "SR-2", "SR-4"]
    assert repo.write_calls == 2  # the cancelled transaction, then the rest


def test_throttled_writes_are_retried_with_backoff_until_written() -> None:
    fake = FakeDynamo(throttled={"SR-0": 2, "SR-7": 1})
    sleeps: list[float] = []
    repo = DynamoRecordRepository(StubClients(fake), "service_records", sleep=sleeps.append, rng=random.Random(1))
    assert repo.put_if_newer(records(10)) == 10 and len(fake.items) == 10
    assert repo.write_calls == 3 and len(sleeps) == 2
    assert all(0 <= s <= 0.1 for s in sleeps)  # full jitter under a doubling cap


def test_every_item_is_written_exactly_once_when_every_other_call_is_throttled() -> None:
    fake = FakeDynamo(throttle_every=2, newer={"SR-17", "SR-1234"})
    repo = DynamoRecordRepository(StubClients(fake), "service_records", sleep=lambda s: None)
    written = repo.put_if_newer(records(5_000))
    assert written == 4_998 and len(fake.items) == 4_998
    assert set(fake.writes.values()) == {1}  # none twice
    assert "SR-17" not in fake.items and "SR-1234" not in fake.items


def test_a_write_throttled_every_time_raises_a_transient_error() -> None:
    fake = FakeDynamo(throttled={"SR-0": 100})
    repo = DynamoRecordRepository(StubClients(fake), "service_records", sleep=lambda s: None)
    with pytest.raises(TransientError, match="throttled or in conflict"):
        repo.put_if_newer(records(1))


def test_a_cancellation_no_retry_can_mend_is_raised() -> None:
    class Refusing:
        def transact_write_items(self, TransactItems):
            reasons = [{"Code": "ValidationError"} for _ in TransactItems]
            error = {"Error": {"Code": "TransactionCanceledException"}, "CancellationReasons": reasons}
            raise ClientError(error, "TransactWriteItems")

    repo = DynamoRecordRepository(StubClients(Refusing()), "service_records", sleep=pytest.fail)
    with pytest.raises(ClientError, match="TransactionCanceled"):
        repo.put_if_newer(records(3))


def test_writes_in_flight_are_bounded() -> None:
    fake = FakeDynamo(seconds=0.01)
    repo = DynamoRecordRepository(StubClients(fake), "service_records")
    assert repo.put_if_newer(records(2_000)) == 2_000
    assert 1 < fake.most_in_flight <= TRANSACTIONS_IN_FLIGHT


def test_load_batch_never_sends_one_key_twice_in_one_call(cleaned, clock) -> None:
    from application.loading.load_batch import LoadBatch
    from tests.factories import put_cleaned

    ids = [f"SR-{i % 40}" for i in range(120)]  # every id three times
    put_cleaned(
        cleaned,
        "dynamodb/date=2026-11-25/a.jsonl",
        *(
            {"service_record_id": i, "dealer_id": "D", "ingested_at": "2026-11-25T00:00:00Z", "n": n}
            for n, i in enumerate(ids)
        ),
    )
    fake = FakeDynamo()
    report = LoadBatch(cleaned, DynamoRecordRepository(StubClients(fake), "service_records"), clock)()
    assert report.ok and len(fake.items) == 40
    assert fake.items["SR-0"]["n"] == {"N": "80"}  # the file's last line for an id wins


def test_the_connection_pool_holds_every_write_in_flight(monkeypatch) -> None:
    from adapters.aws.session import AwsClients

    monkeypatch.setenv("AWS_DEFAULT_REGION", "ap-southeast-3")
    client = AwsClients().client("dynamodb")  # no request is made
    assert client.meta.config.max_pool_connections >= TRANSACTIONS_IN_FLIGHT


def test_the_fast_serializer_gives_what_boto3s_type_serializer_gives() -> None:
    from boto3.dynamodb.types import TypeSerializer

    from adapters.aws.dynamodb_repository import to_dynamo
    from entrypoints.sample_data import generate_records

    def boto3_serialize(record):
        return {k: TypeSerializer().serialize(v) for k, v in to_dynamo(dict(record)).items()}

    edge = {"a": 1e16, "b": float("nan"), "c": float("-inf"), "d": True, "e": None, "h": 10**18, "i": 1e-7, "j": ""}
    edge["f"] = [1, 2.5, "x", {"g": -0.0, "k": False}, []]
    for record in [*generate_records(300, bad_fraction=0, seed=5), edge]:
        assert serialize(record) == boto3_serialize(record)
