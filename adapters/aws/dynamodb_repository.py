"""The record repository in DynamoDB (table ``service_records``, key ``service_record_id``).

BatchWriteItem takes at most 25 items and may hand some back as ``UnprocessedItems``
(throttling): those are retried with exponential backoff and full jitter. Numbers are sent
as Decimal; NaN and infinities become null, since DynamoDB cannot store them.
"""

from __future__ import annotations

import contextlib
import math
import random
import time
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from adapters.aws.errors import translated
from adapters.aws.session import AwsClients
from application.errors import TransientError

WRITE_BATCH = 25
GET_BATCH = 100
MAX_ATTEMPTS = 8
BASE_DELAY = 0.05
MAX_DELAY = 5.0

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def to_dynamo(value: Any) -> Any:
    """A JSON value as DynamoDB accepts it: floats as Decimal, NaN and infinity as None."""
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else Decimal(repr(value))
    if isinstance(value, dict):
        return {k: to_dynamo(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_dynamo(v) for v in value]
    return value


def from_dynamo(value: Any) -> Any:
    """Decimals back to int or float."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: from_dynamo(v) for k, v in value.items()}
    if isinstance(value, list):
        return [from_dynamo(v) for v in value]
    return value


def serialize(record: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _serializer.serialize(v) for k, v in to_dynamo(dict(record)).items()}


def deserialize(item: Mapping[str, Any]) -> dict[str, Any]:
    return from_dynamo({k: _deserializer.deserialize(v) for k, v in item.items()})


class DynamoRecordRepository:
    def __init__(
        self,
        clients: AwsClients,
        table_name: str,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self._clients = clients
        self.table_name = table_name
        self._sleep = sleep
        self._rng = rng or random.Random()
        self.write_calls = 0

    def _translated(self) -> contextlib.AbstractContextManager[None]:
        return translated(resource=f"table {self.table_name!r}", setting="DYNAMODB_TABLE_NAME")

    def verify(self) -> None:
        """Raise ConfigurationError unless the table exists and this role may use it."""
        with self._translated():
            self._dynamodb.describe_table(TableName=self.table_name)

    @property
    def _dynamodb(self):  # type: ignore[no-untyped-def]
        return self._clients.client("dynamodb")

    def _backoff(self, attempt: int) -> None:
        self._sleep(self._rng.uniform(0, min(MAX_DELAY, BASE_DELAY * 2**attempt)))

    def put_many(self, records: Sequence[Mapping[str, object]]) -> None:
        ids = [str(r["service_record_id"]) for r in records]
        if len(ids) != len(set(ids)):
            raise ValueError("duplicate service_record_id in one write: DynamoDB refuses such a batch")
        for start in range(0, len(records), WRITE_BATCH):
            requests = [{"PutRequest": {"Item": serialize(r)}} for r in records[start : start + WRITE_BATCH]]
            self._write(requests)

    def _write(self, requests: list[dict[str, Any]]) -> None:
        pending = {self.table_name: requests}
        for attempt in range(MAX_ATTEMPTS):
            with self._translated():
                self.write_calls += 1
                answer = self._dynamodb.batch_write_item(RequestItems=pending)
            pending = answer.get("UnprocessedItems") or {}
            if not pending:
                return
            self._backoff(attempt)
        left = sum(len(v) for v in pending.values())
        raise TransientError(f"DynamoDB left {left} items unprocessed after {MAX_ATTEMPTS} attempts")

    def ingested_at_of(self, record_ids: Sequence[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        unique = list(dict.fromkeys(record_ids))
        for start in range(0, len(unique), GET_BATCH):
            keys = [{"service_record_id": {"S": i}} for i in unique[start : start + GET_BATCH]]
            request = {
                self.table_name: {
                    "Keys": keys,
                    "ProjectionExpression": "#id, #at",
                    "ExpressionAttributeNames": {"#id": "service_record_id", "#at": "ingested_at"},
                }
            }
            for attempt in range(MAX_ATTEMPTS):
                with self._translated():
                    answer = self._dynamodb.batch_get_item(RequestItems=request)
                for item in answer.get("Responses", {}).get(self.table_name, []):
                    found[item["service_record_id"]["S"]] = item["ingested_at"]["S"]
                request = answer.get("UnprocessedKeys") or {}
                if not request:
                    break
                self._backoff(attempt)
            else:
                raise TransientError("DynamoDB left keys unread after retries")
        return found

    def get(self, record_id: str) -> dict[str, object] | None:
        with self._translated():
            answer = self._dynamodb.get_item(
                TableName=self.table_name, Key={"service_record_id": {"S": record_id}}, ConsistentRead=True
            )
        item = answer.get("Item")
        return None if item is None else deserialize(item)

    def count(self) -> int:
        total = 0
        paginator = self._dynamodb.get_paginator("scan")
        with self._translated():
            for page in paginator.paginate(TableName=self.table_name, Select="COUNT"):
                total += int(page["Count"])
        return total
