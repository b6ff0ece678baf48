"""One measurement, in its own process so that its peak RSS is its own.

python -m bench.measure CASE ARGS...   ->  one JSON line: seconds, count, peak_rss_mib, ...
"""

from __future__ import annotations

import gc
import json
import math
import resource
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def baseline(path: str) -> dict:
    """pyarrow alone: read the JSONL, flatten it, write it as Parquet."""
    import pyarrow as pa
    import pyarrow.json as pa_json
    import pyarrow.parquet as pq

    out = Path(tempfile.mkdtemp()) / "baseline.parquet"
    started = time.perf_counter()
    table = pa_json.read_json(path)
    while any(pa.types.is_struct(f.type) for f in table.schema):
        table = table.flatten()
    pq.write_table(table, out)
    seconds = time.perf_counter() - started
    shutil.rmtree(out.parent)
    return {"seconds": seconds, "count": table.num_rows}


def _local_stores(root: Path):
    from adapters.local.folder_object_store import FolderObjectStore

    return FolderObjectStore(root / "raw"), FolderObjectStore(root / "cleaned"), FolderObjectStore(root / "error")


def process(path: str, chunk_bytes: str | None = None) -> dict:
    """ProcessRawFile on one file, local adapters, after a small warm-up file in the same
    process (as in a running worker: first-call costs are not the file's)."""
    import orjson

    from adapters.clock import SystemClock
    from adapters.local.temporary_files import TemporaryFiles
    from application.processing.process_raw_file import ProcessRawFile
    from entrypoints.sample_data import generate_records

    root = Path(tempfile.mkdtemp())
    raw, cleaned, errors = _local_stores(root)
    kwargs = {"chunk_bytes": int(chunk_bytes)} if chunk_bytes else {}
    use_case = ProcessRawFile(raw, cleaned, errors, SystemClock(), scratch=TemporaryFiles(), **kwargs)
    warm_up = list(generate_records(200, seed=1))
    raw.put_bytes("service-records/date=2026-11-25/warm-up.json", orjson.dumps(warm_up))
    use_case("service-records/date=2026-11-25/warm-up.json")
    key = f"service-records/date=2026-11-25/{Path(path).name}"
    shutil.copy(path, root / "raw" / key)
    started = time.perf_counter()
    result = use_case(key)
    seconds = time.perf_counter() - started
    shutil.rmtree(root)
    return {"seconds": seconds, "count": result.total_rows, "valid": result.valid_rows}


def small_files(files: str, records: str, latency: str = "0") -> dict:
    """``files`` files of ``records`` records each, through the worker with --drain; with
    ``latency``, every object-store call that many seconds slower (as S3 is)."""
    import orjson
    from dependency_injector import providers

    from bench.slow_store import SlowStore
    from entrypoints.container import build_container
    from entrypoints.sample_data import generate_records
    from entrypoints.settings import Settings
    from entrypoints.worker.loop import run_worker

    root = Path(tempfile.mkdtemp())
    container = build_container(Settings.from_env(data_dir=str(root), backend="local"))
    raw = container.raw_store()
    for i in range(int(files)):  # one file at a time: a sample held whole would weigh on the peak
        chunk = list(generate_records(int(records), seed=7 + i))
        raw.put_bytes(f"service-records/date=2026-11-25/small-{i:05d}.json", orjson.dumps(chunk))
    gc.collect()
    if float(latency):  # the local queue is not slowed
        for name in ("raw_store", "cleaned_store", "error_store"):
            store = getattr(container, name)
            store.override(providers.Object(SlowStore(store(), float(latency))))
    started = time.perf_counter()
    stats = run_worker(
        container.queue(),
        container.process_raw_file(),
        drain=True,
        files_in_flight=container.config.files_in_flight(),
    )
    seconds = time.perf_counter() - started
    shutil.rmtree(root)
    return {"seconds": seconds, "count": stats.files_processed}


def submit_latency(records: str, requests: str) -> dict:
    """SubmitRecord behind the HTTP app, in process, storage excluded (an in-memory store)."""
    import orjson
    from fastapi.testclient import TestClient

    from adapters.clock import SystemClock
    from adapters.local.in_memory import InMemoryApiKeyStore, InMemoryObjectStore
    from application.access.api_keys import Authenticate, IssueApiKey
    from application.intake.submit_record import SubmitRecord
    from entrypoints.api.http_app import create_app
    from entrypoints.memory import freeze_startup_objects
    from entrypoints.sample_data import generate_records

    store = InMemoryObjectStore()
    use_case = SubmitRecord(store, SystemClock())
    keys = InMemoryApiKeyStore()
    _, key = IssueApiKey(keys, SystemClock())(None, admin=True)  # sample records span dealers
    authenticate = Authenticate(keys)
    app = create_app(lambda: use_case, lambda: authenticate, lambda: None)  # no status asked here
    client = TestClient(app, headers={"x-api-key": key})
    freeze_startup_objects()  # as the Lambda handler and `servicepipe serve` do
    body = orjson.dumps(list(generate_records(int(records), bad_fraction=0, seed=3)))
    timings = []
    for i in range(int(requests) + 20):
        started = time.perf_counter()
        response = client.post("/service-records", content=body)
        elapsed = time.perf_counter() - started
        assert response.status_code == 202, response.text
        if i >= 20:  # warm-up
            timings.append(elapsed)
        store.objects.clear()
    timings.sort()
    p99 = timings[math.ceil(0.99 * len(timings)) - 1]
    return {
        "seconds": sum(timings),
        "count": len(timings),
        "p50_ms": statistics.median(timings) * 1000,
        "p99_ms": p99 * 1000,
    }


def load_slow(records: str, seconds: str = "0.02") -> dict:
    """LoadBatch into a stubbed DynamoDB client that answers every TransactWriteItems after
    ``seconds`` (botocore's own CPU cost is not in this figure; ``load_botocore`` has it)."""
    from adapters.aws.dynamodb_repository import DynamoRecordRepository
    from adapters.clock import SystemClock
    from adapters.local.in_memory import InMemoryObjectStore
    from application.loading.load_batch import LoadBatch

    class SlowDynamo:
        calls = in_flight = most_in_flight = items = 0
        lock = threading.Lock()

        def transact_write_items(self, TransactItems):
            with self.lock:
                SlowDynamo.calls += 1
                SlowDynamo.items += len(TransactItems)
                SlowDynamo.in_flight += 1
                SlowDynamo.most_in_flight = max(SlowDynamo.most_in_flight, SlowDynamo.in_flight)
            time.sleep(float(seconds))
            with self.lock:
                SlowDynamo.in_flight -= 1
            return {}

    class Clients:
        def client(self, service):
            return SlowDynamo()

    store = InMemoryObjectStore()
    _put_cleaned_file(store, int(records))
    started = time.perf_counter()
    report = LoadBatch(store, DynamoRecordRepository(Clients(), "service_records"), SystemClock())()
    if report.files_failed:  # a figure of 0 items/s would hide a broken benchmark
        raise RuntimeError(f"the benchmark's cleaned file failed to load: {report.files_failed}")
    elapsed = time.perf_counter() - started
    return {
        "seconds": elapsed,
        "count": report.records_loaded,
        "calls": SlowDynamo.calls,
        "expected_calls": math.ceil(int(records) / 100),
        "most_in_flight": SlowDynamo.most_in_flight,
    }


def load_botocore(records: str, seconds: str = "0.02") -> dict:
    """As ``load_slow``, but through a real botocore client whose HTTP layer answers after
    ``seconds``: serialising, signing and parsing are counted."""
    import boto3
    from botocore.awsrequest import AWSResponse

    from adapters.aws.dynamodb_repository import DynamoRecordRepository
    from adapters.clock import SystemClock
    from adapters.local.in_memory import InMemoryObjectStore
    from application.loading.load_batch import LoadBatch

    class Body:
        def stream(self, **_):
            yield b"{}"

        def read(self, *_):
            return b"{}"

    def answer(request, **_):
        time.sleep(float(seconds))
        return AWSResponse(request.url, 200, {"x-amzn-RequestId": "bench"}, Body())

    client = boto3.client(
        "dynamodb", region_name="ap-southeast-3", aws_access_key_id="bench", aws_secret_access_key="bench"
    )
    client.meta.events.register("before-send", answer)

    class Clients:
        def client(self, service):
            return client

    store = InMemoryObjectStore()
    _put_cleaned_file(store, int(records))
    started = time.perf_counter()
    report = LoadBatch(store, DynamoRecordRepository(Clients(), "service_records"), SystemClock())()
    if report.files_failed:  # a figure of 0 items/s would hide a broken benchmark
        raise RuntimeError(f"the benchmark's cleaned file failed to load: {report.files_failed}")
    return {"seconds": time.perf_counter() - started, "count": report.records_loaded}


def _put_cleaned_file(store, n: int) -> None:
    """One processed file of ``n`` cleaned records shaped like the worker's."""
    import orjson

    from entrypoints.sample_data import generate_records

    sample = list(generate_records(200, bad_fraction=0, seed=5))
    # The worker's cleaned lines carry the record's key and history fields at the top level.
    flat = [
        {
            **r,
            "dealer_id": r["dealer"]["dealer_id"],
            "vin": r["vehicle"]["vin"],
            "service_date": r["service_details"]["service_date"],
        }
        for r in sample
    ]
    lines = b"".join(
        orjson.dumps({**flat[i % 200], "service_record_id": f"SR-{i:08d}", "ingested_at": "2026-11-25T00:00:00Z"})
        + b"\n"
        for i in range(n)
    )
    store.put_bytes("dynamodb/date=2026-11-25/a.jsonl", lines)
    store.put_bytes("manifests/date=2026-11-25/a.json", b'{"status": "processed"}')  # the commit marker


CASES = {
    "baseline": baseline,
    "process": process,
    "small-files": small_files,
    "submit": submit_latency,
    "load-slow": load_slow,
    "load-botocore": load_botocore,
}

if __name__ == "__main__":
    from entrypoints.memory import limit_malloc_arenas, use_system_allocator

    limit_malloc_arenas()
    use_system_allocator()  # as the worker and the CLI run
    outcome = CASES[sys.argv[1]](*sys.argv[2:])
    outcome["peak_rss_mib"] = peak_rss_mib()
    print(json.dumps(outcome))
