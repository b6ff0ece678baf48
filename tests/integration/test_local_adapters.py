"""The local adapters on real files: folder store, SQLite queue and database."""

from __future__ import annotations

import json

import pytest

from adapters.local.folder_object_store import FolderObjectStore
from adapters.local.queue_notifier import QueueNotifier
from adapters.local.sqlite_queue import SqliteQueue
from adapters.local.sqlite_repository import SqliteRecordRepository
from adapters.s3_events import object_keys
from application.errors import ObjectNotFound
from domain.record_identity import RecordKey


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_folder_store_round_trip_listing_and_metadata(tmp_path) -> None:
    store = FolderObjectStore(tmp_path / "raw")
    store.put_bytes("a/date=1/x.json", b"1", {"submission-id": "s"})
    store.put_bytes("a/date=2/y.json", b"22")
    store.put_bytes("b/z.json", b"3")
    assert list(store.list_keys("a/")) == ["a/date=1/x.json", "a/date=2/y.json"]
    assert list(store.list_keys("a/date=1")) == ["a/date=1/x.json"]
    assert list(store.list_keys()) == ["a/date=1/x.json", "a/date=2/y.json", "b/z.json"]
    assert store.head("a/date=1/x.json").metadata == {"submission-id": "s"}
    assert store.head("a/date=2/y.json").size == 2
    with pytest.raises(ObjectNotFound):
        store.head("nope")
    with pytest.raises(ObjectNotFound), store.open_read("nope"):
        pass


def test_folder_store_writes_are_atomic(tmp_path) -> None:
    store = FolderObjectStore(tmp_path / "cleaned")
    store.put_bytes("k.txt", b"old")
    with pytest.raises(RuntimeError), store.open_write("k.txt") as sink:
        sink.write(b"half of the new")
        raise RuntimeError("killed mid-write")
    assert store.read_bytes("k.txt") == b"old"
    assert list(store.list_keys()) == ["k.txt"]  # no temporary file left behind or listed


@pytest.mark.parametrize("key", ["../escape", "/abs", "a//b", "a/./b", ".meta/x", ""])
def test_folder_store_refuses_keys_that_leave_the_bucket(tmp_path, key) -> None:
    with pytest.raises(ValueError, match="invalid object key"):
        FolderObjectStore(tmp_path / "raw").put_bytes(key, b"x")


def test_new_raw_objects_notify_the_queue_like_s3(tmp_path) -> None:
    queue = SqliteQueue(tmp_path / "q.sqlite")
    store = FolderObjectStore(tmp_path / "raw", bucket="raw", on_created=QueueNotifier(queue))
    store.put_bytes("service-records/date=2026-11-25/a b.json", b"[]")
    (message,) = queue.receive()
    assert object_keys(message.body) == ["service-records/date=2026-11-25/a b.json"]
    assert json.loads(message.body)["Records"][0]["s3"]["bucket"]["name"] == "raw"


def test_queue_visibility_timeout_and_delete(tmp_path) -> None:
    clock = Clock()
    queue = SqliteQueue(tmp_path / "q.sqlite", visibility_timeout=30, clock=clock)
    queue.send("m1")
    (first,) = queue.receive()
    assert queue.receive() == [] and queue.stats().in_flight == 1
    clock.t += 31
    (again,) = queue.receive()
    assert again.message_id == first.message_id and again.receive_count == 2
    queue.delete(first.receipt_handle)  # a stale receipt deletes nothing
    assert queue.stats().in_flight == 1
    queue.delete(again.receipt_handle)
    assert queue.stats() == queue.stats().__class__(0, 0, 0)


def test_queue_change_visibility_releases_a_message(tmp_path) -> None:
    queue = SqliteQueue(tmp_path / "q.sqlite", visibility_timeout=300)
    queue.send("m1")
    (message,) = queue.receive()
    queue.change_visibility(message.receipt_handle, 0)
    assert [m.body for m in queue.receive()] == ["m1"]


def test_queue_moves_a_message_to_the_dlq_after_five_receives(tmp_path) -> None:
    clock = Clock()
    queue = SqliteQueue(tmp_path / "q.sqlite", visibility_timeout=10, max_receives=5, clock=clock)
    queue.send("poison")
    for n in range(1, 6):
        (message,) = queue.receive()
        assert message.receive_count == n
        clock.t += 11
    assert queue.receive() == []
    assert queue.stats().dead_letter == 1


def test_queue_survives_a_restart(tmp_path) -> None:
    SqliteQueue(tmp_path / "q.sqlite").send("durable")
    assert [m.body for m in SqliteQueue(tmp_path / "q.sqlite").receive()] == ["durable"]


def test_queue_long_poll_waits_then_returns_empty(tmp_path) -> None:
    import threading
    import time

    queue = SqliteQueue(tmp_path / "q.sqlite")
    started = time.monotonic()
    assert queue.receive(wait_seconds=0.3) == []
    assert time.monotonic() - started >= 0.3  # it waited
    threading.Timer(0.2, queue.send, args=("late",)).start()
    started = time.monotonic()
    (message,) = queue.receive(wait_seconds=5)  # a message sent during the wait ends it
    assert message.body == "late" and time.monotonic() - started < 4


def test_sqlite_repository_newer_wins_inside_the_write(tmp_path) -> None:
    repo = SqliteRecordRepository(tmp_path / "db.sqlite")
    at = "2026-11-25T01:00:00.000000Z"
    later = "2026-11-25T02:00:00.000000Z"
    assert (
        repo.put_if_newer([{"service_record_id": "1", "dealer_id": "D", "vin": "V", "ingested_at": later, "x": 2}]) == 1
    )
    assert repo.put_if_newer([{"service_record_id": "1", "dealer_id": "D", "vin": "V", "ingested_at": at, "x": 1}]) == 0
    assert (
        repo.put_if_newer([{"service_record_id": "1", "dealer_id": "D", "vin": "V", "ingested_at": later, "x": 3}]) == 1
    )  # same: replaces
    assert repo.count() == 1 and repo.get(RecordKey("D", "1"))["x"] == 3
    assert SqliteRecordRepository(tmp_path / "db.sqlite").get(RecordKey("D", "1"))["ingested_at"] == later
    ids = [str(i) for i in range(1200)]
    assert repo.put_if_newer([{"service_record_id": i, "dealer_id": "D", "ingested_at": at} for i in ids]) == 1199
    assert repo.count() == 1200


def test_folder_store_check_removes_temporary_files_of_dead_writers_only(tmp_path) -> None:
    import os
    import subprocess

    store = FolderObjectStore(tmp_path / "cleaned")
    store.put_bytes("dynamodb/date=2026-11-25/a.jsonl", b"{}\n")
    dead = subprocess.Popen(["true"])
    dead.wait()  # a pid that no longer runs
    folder = tmp_path / "cleaned" / "dynamodb" / "date=2026-11-25"
    abandoned = folder / f".tmp-{dead.pid}-abc"
    live = folder / f".tmp-{os.getpid()}-def"
    legacy = folder / ".tmp-k3j_8xq"  # written before names carried a pid
    for path in (abandoned, live, legacy):
        path.write_bytes(b"half")
    store.verify()
    assert not abandoned.exists() and not legacy.exists()
    assert live.exists()  # a writer in this (running) process is left alone
    assert list(store.list_keys()) == ["dynamodb/date=2026-11-25/a.jsonl"]


def test_folder_store_keeps_content_type_with_metadata(tmp_path) -> None:
    store = FolderObjectStore(tmp_path / "raw")
    store.put_bytes("a.jsonl", b"{}\n", {"submission-id": "s"}, content_type="application/x-ndjson")
    with store.open_write("b.json", content_type="application/json") as sink:
        sink.write(b"[]")
    assert store.head("a.jsonl").content_type == "application/x-ndjson"
    assert store.head("a.jsonl").metadata == {"submission-id": "s"}
    assert store.head("b.json").content_type == "application/json"


def test_folder_store_delete_removes_object_and_metadata(tmp_path) -> None:
    store = FolderObjectStore(tmp_path / "errors")
    store.put_bytes("rejected/date=2026-11-25/a.jsonl", b"{}\n", {"submission-id": "s"}, "application/x-ndjson")
    store.delete("rejected/date=2026-11-25/a.jsonl")
    store.delete("rejected/date=2026-11-25/a.jsonl")  # again: nothing there, no error
    assert not store.exists("rejected/date=2026-11-25/a.jsonl")
    assert list(store.list_keys()) == [] and not list((tmp_path / "errors" / ".meta").rglob("*.json"))


def test_a_data_folder_from_before_dealer_keys_is_migrated(tmp_path) -> None:
    """A table keyed by service_record_id alone (before the identity was the pair) becomes
    the (dealer_id, service_record_id) table on first open, every record kept."""
    import sqlite3

    import orjson

    path = tmp_path / "db.sqlite"
    with sqlite3.connect(path) as db:
        db.executescript(
            "CREATE TABLE service_records (service_record_id TEXT PRIMARY KEY, vin TEXT, service_date TEXT, "
            "ingested_at TEXT NOT NULL, record BLOB NOT NULL);"
            "CREATE INDEX service_records_vin_date ON service_records (vin, service_date);"
        )
        for i in range(3):
            record = {"service_record_id": f"SR-{i}", "dealer_id": "D", "vin": "V", "service_date": f"2026-1{i}"}
            record["ingested_at"] = "2026-11-25T01:00:00.000000Z"
            db.execute(
                "INSERT INTO service_records VALUES (?, 'V', ?, ?, ?)",
                (record["service_record_id"], record["service_date"], record["ingested_at"], orjson.dumps(record)),
            )
    repo = SqliteRecordRepository(path)
    assert repo.count() == 3 and repo.get(RecordKey("D", "SR-1"))["service_date"] == "2026-11"
    assert [r["service_record_id"] for r in repo.history("V", 10)[0]] == ["SR-2", "SR-1", "SR-0"]
    assert SqliteRecordRepository(path).count() == 3  # opened again: nothing to migrate
