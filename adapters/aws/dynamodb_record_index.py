"""The record index in a DynamoDB table: partition key ``person`` (the dealer and the lookup),
sort key ``place`` (the raw key and the row's index), so that one Query finds a person's rows."""

from __future__ import annotations

import contextlib
import random
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import orjson

from adapters.aws.errors import translated
from adapters.aws.session import AwsClients
from application.erasure.record_index import Holding
from application.errors import TransientError

BATCH = 25  # BatchWriteItem's limit of requests per call
CALLS_IN_FLIGHT = 8  # a file of 20,000 rows is 800 calls: a few at once keep the worker moving
ATTEMPTS = 8
BASE_DELAY, MAX_DELAY = 0.05, 2.0


def person_key(dealer_id: str, lookup: str) -> str:
    """The partition key: both parts, unambiguous whatever characters a dealer id holds."""
    return orjson.dumps([dealer_id, lookup]).decode()


def place_key(raw_key: str, record_index: int) -> str:
    return f"{raw_key}#{record_index:012d}"


class DynamoRecordIndex:
    def __init__(
        self,
        clients: AwsClients,
        table_name: str,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self._clients, self.table_name = clients, table_name
        self._sleep, self._rng = sleep, rng or random.Random()

    def _translated(self) -> contextlib.AbstractContextManager[None]:
        return translated(resource=f"table {self.table_name!r}", setting="RECORD_INDEX_TABLE_NAME")

    @property
    def _dynamodb(self):  # type: ignore[no-untyped-def]
        return self._clients.client("dynamodb")

    def verify(self) -> None:
        with self._translated():
            self._dynamodb.describe_table(TableName=self.table_name)

    def note(self, holdings: Iterable[Holding]) -> None:
        # One request per key in a call: BatchWriteItem refuses a key twice.
        requests = {place_key(h.raw_key, h.record_index) + person_key(h.dealer_id, h.lookup): _put(h) for h in holdings}
        self._write(list(requests.values()))

    def remove(self, holdings: Sequence[Holding]) -> None:
        keys = {(person_key(h.dealer_id, h.lookup), place_key(h.raw_key, h.record_index)) for h in holdings}
        self._write([{"DeleteRequest": {"Key": {"person": {"S": p}, "place": {"S": q}}}} for p, q in sorted(keys)])

    def holding(self, dealer_id: str, lookup: str) -> list[Holding]:
        found = []
        paginator = self._dynamodb.get_paginator("query")
        with self._translated():
            for page in paginator.paginate(
                TableName=self.table_name,
                KeyConditionExpression="person = :person",
                ExpressionAttributeValues={":person": {"S": person_key(dealer_id, lookup)}},
                ConsistentRead=True,
            ):
                found += [_holding(item, dealer_id, lookup) for item in page["Items"]]
        return found

    def _write(self, requests: list[dict[str, Any]]) -> None:
        calls = [requests[i : i + BATCH] for i in range(0, len(requests), BATCH)]
        if not calls:
            return
        with ThreadPoolExecutor(max_workers=min(CALLS_IN_FLIGHT, len(calls))) as pool:
            list(pool.map(self._batch, calls))

    def _batch(self, requests: list[dict[str, Any]]) -> None:
        """One BatchWriteItem, and again for what it left unprocessed, with backoff."""
        pending = {self.table_name: requests}
        for attempt in range(ATTEMPTS):
            with self._translated():
                answer = self._dynamodb.batch_write_item(RequestItems=pending)
            pending = answer.get("UnprocessedItems") or {}
            if not pending:
                return
            self._sleep(self._rng.uniform(0, min(MAX_DELAY, BASE_DELAY * 2**attempt)))
        raise TransientError(f"table {self.table_name!r} kept leaving index rows unwritten; try again later")


def _put(holding: Holding) -> dict[str, Any]:
    item = {
        "person": {"S": person_key(holding.dealer_id, holding.lookup)},
        "place": {"S": place_key(holding.raw_key, holding.record_index)},
        "raw_key": {"S": holding.raw_key},
        "record_index": {"N": str(holding.record_index)},
    }
    if holding.service_record_id is not None:
        item["service_record_id"] = {"S": holding.service_record_id}
    return {"PutRequest": {"Item": item}}


def _holding(item: dict[str, Any], dealer_id: str, lookup: str) -> Holding:
    record = item.get("service_record_id", {}).get("S")
    return Holding(dealer_id, lookup, item["raw_key"]["S"], int(item["record_index"]["N"]), record)
