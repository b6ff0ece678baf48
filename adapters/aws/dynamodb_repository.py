"""The record repository in DynamoDB: table ``service_records``, partition key
``service_record_id`` and sort key ``dealer_id`` (a record's identity is the pair; ids spread
writes over partitions, where a dealership's whole file would load into one), and the GSI
``vin-history-index`` (``vin``, ``history_position``: adapters/history_order.py).

Newer-wins is part of each write: every Put carries a ConditionExpression that keeps the
stored item when its ``ingested_at`` is newer, so that two loads running at once, or an old
file loaded again, cannot let an older version win. BatchWriteItem takes no conditions, and
one PutItem per item costs botocore about 0.4 ms of CPU (about 2,500 items/s per process), so
the Puts go up to 100 to a TransactWriteItems call (about 0.14 ms an item), a few calls in
flight. A transaction is all or nothing: when DynamoDB cancels one, the items whose condition
failed (stored newer) are counted as skipped and the rest sent again, after a backoff if
anything was throttled or in conflict. Transactional writes cost two write units per KB where
a PutItem costs one (docs/performance.md weighs it). Numbers are sent as Decimal; NaN and
infinities become null, since DynamoDB cannot store them.
"""

from __future__ import annotations

import contextlib
import json
import math
import random
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from adapters.aws.errors import error_code, translated
from adapters.aws.session import AwsClients
from adapters.history_order import POSITION, history_position
from adapters.page_tokens import decode_texts, encode_page
from application.errors import BadPageToken, TransientError
from domain.record_identity import RecordKey, StoredVersion, content_hash, key_of

TRANSACTION_ITEMS = 100  # DynamoDB's most actions per TransactWriteItems
TRANSACTION_BYTES = 3_000_000  # of the records' JSON per call: under the 4 MB a call may carry
TRANSACTIONS_IN_FLIGHT = 8  # calls at once, per load
KEYS_PER_BATCH_GET = 100  # DynamoDB's most keys per BatchGetItem
# Why DynamoDB cancelled an item of a transaction, beyond "None" (the item was fine).
STORED_IS_NEWER = "ConditionalCheckFailed"
TRY_AGAIN = {"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded", "RequestLimitExceeded"}
MAX_ATTEMPTS = 8
BASE_DELAY = 0.05
MAX_DELAY = 5.0
# An item written by someone else (no ingested_at, or not text) counts as older than any.
VIN_INDEX = "vin-history-index"
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
    """A JSON record as DynamoDB attribute values: what boto3's TypeSerializer gives for it
    (after ``to_dynamo``), at a fifth of the CPU; the loader spends most of its time here."""
    return {k: _attribute(v) for k, v in record.items()}


def _attribute(value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        return {"S": value}
    if value is None:
        return {"NULL": True}
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, int):
        return {"N": str(value)}
    if isinstance(value, float):
        return {"NULL": True} if math.isnan(value) or math.isinf(value) else {"N": str(Decimal(repr(value)))}
    if isinstance(value, dict):
        return {"M": {k: _attribute(v) for k, v in value.items()}}
    if isinstance(value, list):
        return {"L": [_attribute(v) for v in value]}
    return dict(_serializer.serialize(value))  # anything else JSON does not make: boto3's rules


def deserialize(item: Mapping[str, Any]) -> dict[str, Any]:
    """A stored item as the record it holds (the index's sort key left out)."""
    return from_dynamo({k: _deserializer.deserialize(v) for k, v in item.items() if k != POSITION})


def _key(key: RecordKey) -> dict[str, Any]:
    return {"service_record_id": {"S": key.service_record_id}, "dealer_id": {"S": key.dealer_id}}


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
        were written. Throttled and conflicting writes are retried with backoff."""
        keys = [key_of(r) for r in records]
        if len(keys) != len(set(keys)):
            raise ValueError("a record key twice in one write: the later version must be chosen first")
        transactions = list(_transactions(records))
        if not transactions:
            return 0
        with ThreadPoolExecutor(max_workers=min(TRANSACTIONS_IN_FLIGHT, len(transactions))) as pool:
            return sum(pool.map(self._write_transaction, transactions))

    def _put(self, record: Mapping[str, object]) -> dict[str, Any]:
        return {
            "Put": {
                "TableName": self.table_name,
                "Item": serialize({**record, POSITION: history_position(record)}),
                "ConditionExpression": NEWER_WINS,
                "ExpressionAttributeNames": {"#at": "ingested_at"},
                "ExpressionAttributeValues": {":at": {"S": str(record["ingested_at"])}, ":text": {"S": "S"}},
            }
        }

    def _write_transaction(self, records: Sequence[Mapping[str, object]]) -> int:
        pending = [self._put(record) for record in records]
        failures = 0
        while pending:
            try:
                with self._lock:
                    self.write_calls += 1
                with self._translated():
                    self._dynamodb.transact_write_items(TransactItems=pending)
                return len(pending)
            except ClientError as err:
                reasons = _cancellation_reasons(err, len(pending))
                kept = [put for put, reason in zip(pending, reasons) if reason != STORED_IS_NEWER]  # noqa: B905 - Python 3.9
                refused, pending = len(pending) - len(kept), kept
                if refused and not TRY_AGAIN.intersection(reasons):
                    continue  # only stored-is-newer refusals: send the rest at once
            except TransientError:
                pass
            failures += 1
            if failures >= MAX_ATTEMPTS:
                raise TransientError(f"DynamoDB refused a write {failures} times (throttled or in conflict)")
            self._backoff(failures - 1)
        return 0

    def stored_versions(self, keys: Sequence[RecordKey]) -> dict[RecordKey, StoredVersion]:
        """BatchGetItem, 100 keys a call, whole items (their content is hashed: reconcile's
        occasional reads, not the API's); the keys DynamoDB leaves unprocessed (throttled)
        are asked again after a backoff."""
        wanted = list(dict.fromkeys(keys))
        found: dict[RecordKey, StoredVersion] = {}
        for start in range(0, len(wanted), KEYS_PER_BATCH_GET):
            request: dict[str, Any] = {
                self.table_name: {
                    "Keys": [_key(key) for key in wanted[start : start + KEYS_PER_BATCH_GET]],
                    "ConsistentRead": True,
                }
            }
            attempt = 0
            while request:
                with self._translated():
                    answer = self._dynamodb.batch_get_item(RequestItems=request)
                for item in answer.get("Responses", {}).get(self.table_name, []):
                    record = deserialize(item)
                    key = RecordKey(str(record["dealer_id"]), str(record["service_record_id"]))
                    at = record.get("ingested_at")  # another tool's item may have none, or a number
                    found[key] = StoredVersion(at if isinstance(at, str) else "", content_hash(record))
                request = answer.get("UnprocessedKeys") or {}
                if request:
                    attempt += 1
                    if attempt >= MAX_ATTEMPTS:
                        raise TransientError(f"DynamoDB left keys unread {attempt} times (throttled)")
                    self._backoff(attempt - 1)
        return found

    def get(self, key: RecordKey) -> dict[str, object] | None:
        with self._translated():
            answer = self._dynamodb.get_item(TableName=self.table_name, Key=_key(key), ConsistentRead=True)
        item = answer.get("Item")
        return None if item is None else deserialize(item)

    def with_id(self, service_record_id: str) -> list[dict[str, object]]:
        """One Query on the partition key: every dealership's record with this id."""
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": "service_record_id = :id",
            "ExpressionAttributeValues": {":id": {"S": service_record_id}},
            "ConsistentRead": True,
        }
        records: list[dict[str, object]] = []
        while True:
            with self._translated():
                answer = self._dynamodb.query(**request)
            records += [deserialize(item) for item in answer.get("Items", [])]
            if not answer.get("LastEvaluatedKey"):
                return records
            request["ExclusiveStartKey"] = answer["LastEvaluatedKey"]

    def history(self, vin: str, limit: int, page: str | None = None) -> tuple[list[dict[str, object]], str | None]:
        """One Query of the ``vin-history-index`` GSI, newest first. DynamoDB ends a Query at
        ``limit`` items or 1 MB, whichever comes first, so a page may be short: the token is
        its LastEvaluatedKey whenever there is one (vin, position and the table's key),
        checked to be this vehicle's when it comes back."""
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "IndexName": VIN_INDEX,
            "KeyConditionExpression": "vin = :vin",
            "ExpressionAttributeValues": {":vin": {"S": vin}},
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if page is not None:
            after_vin, after_position, after_id, after_dealer = decode_texts(page, 4)
            if after_vin != vin:
                raise BadPageToken("the page token belongs to another vehicle: start again without it")
            request["ExclusiveStartKey"] = {
                "vin": {"S": after_vin},
                POSITION: {"S": after_position},
                **_key(RecordKey(after_dealer, after_id)),
            }
        with self._translated():
            answer = self._dynamodb.query(**request)
        records = [deserialize(item) for item in answer.get("Items", [])]
        last = answer.get("LastEvaluatedKey")
        token = None
        if last:
            position = [last["vin"]["S"], last[POSITION]["S"], last["service_record_id"]["S"], last["dealer_id"]["S"]]
            token = encode_page(position)
        return records, token

    # DynamoDB refreshes a table's ItemCount about every six hours; a Scan would be exact but
    # reads the whole table, which costs dollars and minutes at a month's volume.
    count_is_exact = False

    def count(self) -> int:
        """The table's item count as DescribeTable reports it (approximate)."""
        with self._translated():
            table = self._dynamodb.describe_table(TableName=self.table_name)["Table"]
        return int(table.get("ItemCount", 0))


def _transactions(records: Sequence[Mapping[str, object]]) -> Iterator[Sequence[Mapping[str, object]]]:
    """``records`` cut into transactions of at most TRANSACTION_ITEMS and TRANSACTION_BYTES."""
    start, size = 0, 0
    for i, record in enumerate(records):
        record_size = len(json.dumps(record, default=str))
        if i > start and (i - start >= TRANSACTION_ITEMS or size + record_size > TRANSACTION_BYTES):
            yield records[start:i]
            start, size = i, 0
        size += record_size
    if start < len(records):
        yield records[start:]


def _cancellation_reasons(err: ClientError, items: int) -> list[str]:
    """Why each item of a cancelled transaction was refused; re-raises any other error, and a
    cancellation for a reason no retry can mend (a malformed item, say)."""
    if error_code(err) != "TransactionCanceledException":
        raise err
    reasons = [str(r.get("Code") or "None") for r in err.response.get("CancellationReasons", [])]
    if len(reasons) != items or not set(reasons) <= {"None", STORED_IS_NEWER, *TRY_AGAIN}:
        raise err
    return reasons
