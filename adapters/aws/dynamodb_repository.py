"""The record repository in DynamoDB (table ``service_records``, key ``service_record_id``).

Newer-wins is part of each write: a PutItem whose ConditionExpression keeps the stored item
when its ``ingested_at`` is newer, so that two loads running at once cannot let an older
version win. BatchWriteItem takes no conditions, so items go one PutItem each, many in
flight at once (bounded), at the same write-capacity cost per item. Numbers are sent as
Decimal; NaN and infinities become null, since DynamoDB cannot store them.
"""

from __future__ import annotations

import contextlib
import itertools
import math
import random
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from adapters.aws.errors import error_code, translated
from adapters.aws.session import AwsClients
from application.errors import TransientError

WRITE_CONCURRENCY = 16  # PutItem calls in flight at once, per load
MAX_ATTEMPTS = 8
BASE_DELAY = 0.05
MAX_DELAY = 5.0
# An item written by someone else (no ingested_at, or not text) counts as older than any.
NEWER_WINS = "attribute_not_exists(#at) OR NOT attribute_type(#at, :text) OR #at <= :at"

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
        self._lock = threading.Lock()
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

    def put_if_newer(self, records: Sequence[Mapping[str, object]]) -> int:
        """Write each record unless the stored item was ingested later; returns how many
        were written. Throttled writes are retried with backoff."""
        ids = [str(r["service_record_id"]) for r in records]
        if len(ids) != len(set(ids)):
            raise ValueError("duplicate service_record_id in one write: the later one must be chosen first")
        if not records:
            return 0
        with ThreadPoolExecutor(max_workers=min(WRITE_CONCURRENCY, len(records))) as pool:
            return sum(pool.map(self._put_if_newer, records))

    def _put_if_newer(self, record: Mapping[str, object]) -> int:
        request = {
            "TableName": self.table_name,
            "Item": serialize(record),
            "ConditionExpression": NEWER_WINS,
            "ExpressionAttributeNames": {"#at": "ingested_at"},
            "ExpressionAttributeValues": {":at": {"S": str(record["ingested_at"])}, ":text": {"S": "S"}},
        }
        for attempt in itertools.count():
            try:
                with self._lock:
                    self.write_calls += 1
                with self._translated():
                    self._dynamodb.put_item(**request)
                return 1
            except ClientError as err:
                if error_code(err) == "ConditionalCheckFailedException":
                    return 0  # the stored item is newer
                raise
            except TransientError:
                if attempt + 1 >= MAX_ATTEMPTS:
                    raise
                self._backoff(attempt)
        raise AssertionError("unreachable")

    def get(self, record_id: str) -> dict[str, object] | None:
        with self._translated():
            answer = self._dynamodb.get_item(
                TableName=self.table_name, Key={"service_record_id": {"S": record_id}}, ConsistentRead=True
            )
        item = answer.get("Item")
        return None if item is None else deserialize(item)

    # DynamoDB refreshes a table's ItemCount about every six hours; a Scan would be exact but
    # reads the whole table, which costs dollars and minutes at a month's volume.
    count_is_exact = False

    def count(self) -> int:
        """The table's item count as DescribeTable reports it (approximate)."""
        with self._translated():
            table = self._dynamodb.describe_table(TableName=self.table_name)["Table"]
        return int(table.get("ItemCount", 0))
