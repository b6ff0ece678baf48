"""Newer wins even when two loads of the same ids run at the same time, on both backends,
and items the project did not write (no ``ingested_at``) never stop the loader."""

from __future__ import annotations

import threading

import boto3
import pytest

from adapters.aws.dynamodb_repository import DynamoRecordRepository
from adapters.clock import SystemClock
from adapters.local.in_memory import InMemoryObjectStore
from adapters.local.sqlite_repository import SqliteRecordRepository
from application.loading.load_batch import LoadBatch
from domain.record_identity import RecordKey
from tests.factories import put_cleaned

DEALER = "DLR-JKT-001"
IDS = [f"SR-{i:04d}" for i in range(150)]
OLDER, NEWER = "2026-11-25T01:00:00.000000Z", "2026-11-25T02:00:00.000000Z"


def cleaned_file(ingested_at: str, version: str) -> InMemoryObjectStore:
    store = InMemoryObjectStore()
    records = [
        {"service_record_id": i, "dealer_id": DEALER, "vin": "V", "ingested_at": ingested_at, "version": version}
        for i in IDS
    ]
    put_cleaned(store, f"dynamodb/date=2026-11-25/{version}.jsonl", *records)
    return store


def load_both_at_once(repository) -> None:
    loads = [
        LoadBatch(cleaned_file(OLDER, "older"), repository, SystemClock(), batch_records=25),
        LoadBatch(cleaned_file(NEWER, "newer"), repository, SystemClock(), batch_records=25),
    ]
    start = threading.Barrier(2)

    def run(load: LoadBatch) -> None:
        start.wait()
        assert load().ok

    threads = [threading.Thread(target=run, args=(load,)) for load in loads]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)


def test_two_concurrent_loads_keep_the_newer_version_in_sqlite(tmp_path) -> None:
    for round_number in range(6):
        repository = SqliteRecordRepository(tmp_path / f"db-{round_number}.sqlite")
        load_both_at_once(repository)
        versions = {i: repository.get(RecordKey(DEALER, i))["version"] for i in IDS}
        assert set(versions.values()) == {"newer"}, f"round {round_number}: an older version won"


def test_two_concurrent_loads_keep_the_newer_version_in_dynamodb(stack, clients) -> None:
    for round_number in range(3):
        repository = DynamoRecordRepository(clients, stack.table_name)
        load_both_at_once(repository)
        versions = {i: repository.get(RecordKey(DEALER, i))["version"] for i in IDS}
        assert set(versions.values()) == {"newer"}, f"round {round_number}: an older version won"
        for i in IDS:
            boto3.client("dynamodb").delete_item(
                TableName=stack.table_name, Key={"service_record_id": {"S": i}, "dealer_id": {"S": DEALER}}
            )


@pytest.mark.parametrize("stored", [{}, {"ingested_at": {"N": "5"}}])
def test_an_item_written_by_another_tool_counts_as_older(stack, clients, stored) -> None:
    boto3.client("dynamodb").put_item(
        TableName=stack.table_name,
        Item={"service_record_id": {"S": "SR-0000"}, "dealer_id": {"S": DEALER}, "note": {"S": "by hand"}, **stored},
    )
    report = LoadBatch(cleaned_file(OLDER, "ours"), DynamoRecordRepository(clients, stack.table_name), SystemClock())()
    assert report.ok and report.records_loaded == len(IDS)
    assert DynamoRecordRepository(clients, stack.table_name).get(RecordKey(DEALER, "SR-0000"))["version"] == "ours"


def test_a_local_row_without_a_usable_ingested_at_counts_as_older(tmp_path) -> None:
    import sqlite3

    repository = SqliteRecordRepository(tmp_path / "db.sqlite")
    with sqlite3.connect(tmp_path / "db.sqlite") as db:
        db.execute(
            "INSERT INTO service_records (dealer_id, service_record_id, history_position, ingested_at, record) "
            "VALUES (?, 'SR-0000', '', '', '{}')",
            (DEALER,),
        )
    report = LoadBatch(cleaned_file(OLDER, "ours"), repository, SystemClock())()
    assert report.ok and repository.get(RecordKey(DEALER, "SR-0000"))["version"] == "ours"
