"""The same pipeline on local adapters or on moto, for the fault tests: each test builds its
stores, queue and table once and drives the real use-cases and worker loop against them."""

from __future__ import annotations

import contextlib
import json
import os
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from moto import mock_aws

from adapters.aws.dynamodb_repository import DynamoRecordRepository
from adapters.aws.s3_object_store import S3ObjectStore
from adapters.aws.session import AwsClients
from adapters.aws.sqs_queue import SqsQueue
from adapters.clock import SystemClock
from adapters.local.folder_object_store import FolderObjectStore
from adapters.local.in_memory import InMemoryTableCatalog
from adapters.local.queue_notifier import QueueNotifier
from adapters.local.sqlite_queue import SqliteQueue
from adapters.local.sqlite_repository import SqliteRecordRepository
from application.loading.load_batch import LoadBatch
from application.operations.reconcile import Reconcile, Reconciliation
from application.ports import ObjectStore, Queue, RecordRepository
from application.processing.process_raw_file import ProcessRawFile
from entrypoints.worker.loop import run_worker
from tests.integration.aws_stack import create_stack

BACKENDS = ["local", "moto"]


@dataclass
class Backend:
    name: str
    raw: ObjectStore
    cleaned: ObjectStore
    errors: ObjectStore
    queue: Queue
    repository: RecordRepository
    visibility_timeout: int
    stack: Any = None  # the moto stack (names, environment), None on local adapters

    def command_line(self, folder: Path) -> tuple[list[str], dict[str, str]]:
        """``servicepipe`` and the environment that reach these stores from a subprocess
        (``folder`` is the local data folder; on moto the stack must be a moto server's)."""
        servicepipe = str(Path(sys.executable).parent / "servicepipe")
        if self.stack is None:
            return [servicepipe, "--data-dir", str(folder)], dict(os.environ)
        return [servicepipe, "--backend", "aws"], {**os.environ, **self.stack.environment()}

    def process(self, **stores: ObjectStore) -> ProcessRawFile:
        """The worker's use-case; ``raw``, ``cleaned`` or ``errors`` replace those stores (to
        inject faults)."""
        chosen = {"raw": self.raw, "cleaned": self.cleaned, "errors": self.errors, **stores}
        return ProcessRawFile(chosen["raw"], chosen["cleaned"], chosen["errors"], SystemClock())

    def load(self, date: str | None = None) -> Any:
        return LoadBatch(self.cleaned, self.repository, SystemClock())(date)

    def reconcile(self, date: str) -> Reconciliation:
        return Reconcile(self.raw, self.cleaned, self.errors, self.repository, InMemoryTableCatalog())(date)


@contextlib.contextmanager
def backend(
    name: str, folder: Path, visibility_timeout: int = 1, max_receives: int = 5, endpoint: str | None = None
) -> Iterator[Backend]:
    """Stores, queue (with its DLQ after ``max_receives``) and table; a raw object created
    under ``service-records/`` puts its S3 event on the queue, as in production. ``moto`` is
    in-process, unless ``endpoint`` names a moto server (which subprocesses can reach too; the
    caller sets ``AWS_ENDPOINT_URL`` to it)."""
    if name == "local":
        queue = SqliteQueue(folder / "queue.sqlite", visibility_timeout=visibility_timeout, max_receives=max_receives)
        yield Backend(
            name,
            FolderObjectStore(folder / "raw", bucket="raw", on_created=QueueNotifier(queue)),
            FolderObjectStore(folder / "cleaned"),
            FolderObjectStore(folder / "error"),
            queue,
            SqliteRecordRepository(folder / "service_records.sqlite"),
            visibility_timeout,
        )
        return
    with contextlib.nullcontext() if endpoint else mock_aws():
        if endpoint:
            urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST"))
        stack = create_stack(endpoint, max_receives=max_receives, visibility_timeout=visibility_timeout)
        boto3.client("sqs", endpoint_url=endpoint).purge_queue(QueueUrl=stack.queue_url)  # S3's test event
        clients = AwsClients()
        yield Backend(
            name,
            S3ObjectStore(clients, stack.raw_bucket),
            S3ObjectStore(clients, stack.cleaned_bucket),
            S3ObjectStore(clients, stack.error_bucket),
            SqsQueue(clients, stack.queue_url),
            DynamoRecordRepository(clients, stack.table_name),
            visibility_timeout,
            stack,
        )


class InjectedFault(ConnectionError):
    """A storage error put there by a test: the kind a network or a throttled store gives."""


class Flaky:
    """Wraps an object store; the first ``failures[operation]`` calls of an operation fail.

    Operations: ``read`` (open_read, read_bytes), ``write`` (an open_write or put_bytes fails
    at its commit, after the data was written: nothing becomes visible), ``delete``.
    ``failures`` of -1 fail every call.
    """

    def __init__(self, inner: ObjectStore, **failures: int) -> None:
        self.inner, self.failures = inner, failures
        self.calls: dict[str, int] = {}
        self._lock = threading.Lock()

    def _maybe_fail(self, operation: str, key: str) -> None:
        with self._lock:
            self.calls[operation] = self.calls.get(operation, 0) + 1
            left = self.failures.get(operation, 0)
            if left == 0:
                return
            if left > 0:
                self.failures[operation] = left - 1
        raise InjectedFault(f"injected {operation} failure on {key}")

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    @contextlib.contextmanager
    def open_read(self, key: str) -> Iterator[Any]:
        self._maybe_fail("read", key)
        with self.inner.open_read(key) as stream:
            yield stream

    def read_bytes(self, key: str) -> bytes:
        self._maybe_fail("read", key)
        return self.inner.read_bytes(key)

    @contextlib.contextmanager
    def open_write(self, key: str, *args: Any, **kwargs: Any) -> Iterator[Any]:
        with self.inner.open_write(key, *args, **kwargs) as sink:
            yield sink
            self._maybe_fail("write", key)  # raised inside: the inner write is discarded

    def put_bytes(self, key: str, data: bytes, *args: Any, **kwargs: Any) -> None:
        with self.open_write(key, *args, **kwargs) as sink:
            sink.write(data)

    def delete(self, key: str) -> None:
        self._maybe_fail("delete", key)
        self.inner.delete(key)


class DeleteAfterOutputs:
    """Wraps the queue: records, for each delete, whether the file's manifest existed then."""

    def __init__(self, inner: Queue, manifest_exists: Callable[[], bool]) -> None:
        self.inner, self.manifest_exists = inner, manifest_exists
        self.deletes: list[bool] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def delete(self, receipt_handle: str) -> None:
        self.deletes.append(self.manifest_exists())
        self.inner.delete(receipt_handle)


def cleaned_ids(b: Backend, date: str) -> list[str]:
    """Every service_record_id in the date's cleaned JSON Lines, repeats kept."""
    ids = []
    for key in b.cleaned.list_keys(f"dynamodb/date={date}/"):
        ids += [json.loads(line)["service_record_id"] for line in b.cleaned.read_bytes(key).splitlines() if line]
    return ids


def settle(b: Backend, queue: Queue, process: Callable[[str], Any], rounds: int = 15, **worker: Any) -> None:
    """Run draining workers until nothing is queued or in flight: a failed message comes back
    after the visibility timeout, so a round ends with a wait for it."""
    for _ in range(rounds):
        run_worker(queue, process, drain=True, visibility_timeout=b.visibility_timeout, **worker)
        stats = b.queue.stats()
        if stats.visible + stats.in_flight == 0:
            return
        time.sleep(b.visibility_timeout + 0.2)
    raise AssertionError(f"the queue did not settle: {b.queue.stats()}")
