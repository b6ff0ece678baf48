"""One measurement, in its own process so that its peak RSS is its own.

python -m bench.measure CASE ARGS...   ->  one JSON line: seconds, count, peak_rss_mib, ...
"""

from __future__ import annotations

import json
import math
import resource
import shutil
import statistics
import sys
import tempfile
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
    from application.process_raw_file import ProcessRawFile
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


def small_files(files: str, records: str) -> dict:
    """``files`` files of ``records`` records each, through the worker with --drain."""
    import orjson

    from entrypoints.container import build_container
    from entrypoints.sample_data import generate_records
    from entrypoints.settings import Settings
    from entrypoints.worker_loop import run_worker

    root = Path(tempfile.mkdtemp())
    container = build_container(Settings.from_env(data_dir=str(root), backend="local"))
    raw = container.raw_store()
    sample = list(generate_records(int(files) * int(records), seed=7))
    for i in range(int(files)):
        chunk = sample[i * int(records) : (i + 1) * int(records)]
        raw.put_bytes(f"service-records/date=2026-11-25/small-{i:05d}.json", orjson.dumps(chunk))
    started = time.perf_counter()
    stats = run_worker(container.queue(), container.process_raw_file(), drain=True)
    seconds = time.perf_counter() - started
    shutil.rmtree(root)
    return {"seconds": seconds, "count": stats.files_processed}


def submit_latency(records: str, requests: str) -> dict:
    """SubmitRecord behind the HTTP app, in process, storage excluded (an in-memory store)."""
    import orjson
    from fastapi.testclient import TestClient

    from adapters.clock import SystemClock
    from adapters.local.in_memory import InMemoryObjectStore
    from application.submit_record import SubmitRecord
    from entrypoints.http_app import create_app
    from entrypoints.memory import freeze_startup_objects
    from entrypoints.sample_data import generate_records

    store = InMemoryObjectStore()
    use_case = SubmitRecord(store, SystemClock())
    client = TestClient(create_app(lambda: use_case))
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


def load(records: str) -> dict:
    """LoadBatch: conditional PutItem calls counted on a stubbed client, then records/s into SQLite."""
    import orjson

    from adapters.aws.dynamodb_repository import DynamoRecordRepository
    from adapters.clock import SystemClock
    from adapters.local.in_memory import InMemoryObjectStore
    from adapters.local.sqlite_repository import SqliteRecordRepository
    from application.load_batch import LoadBatch

    def put_cleaned_file(store: InMemoryObjectStore, lines: bytes) -> None:
        store.put_bytes("dynamodb/date=2026-11-25/a.jsonl", lines)
        store.put_bytes("manifests/date=2026-11-25/a.json", b'{"status": "processed"}')  # the commit marker

    n = int(records)
    lines = b"".join(
        orjson.dumps(
            {
                "service_record_id": f"SR-{i:08d}",
                "vin": "MHFXX12G3K1234567",
                "service_date": "2026-11-20T03:30:00Z",
                "ingested_at": "2026-11-25T00:00:00Z",
                "service_details": {"total_cost": 650000.0},
            }
        )
        + b"\n"
        for i in range(n)
    )

    class CountingClient:
        calls = 0

        def put_item(self, **request):
            CountingClient.calls += 1  # under the GIL; a lost count would show as a mismatch
            return {}

    class Clients:
        def client(self, service):
            return CountingClient()

    store = InMemoryObjectStore()
    put_cleaned_file(store, lines)
    LoadBatch(store, DynamoRecordRepository(Clients(), "service_records"), SystemClock())()
    root = Path(tempfile.mkdtemp())
    store = InMemoryObjectStore()
    put_cleaned_file(store, lines)
    started = time.perf_counter()
    report = LoadBatch(store, SqliteRecordRepository(root / "db.sqlite"), SystemClock())()
    seconds = time.perf_counter() - started
    shutil.rmtree(root)
    return {
        "seconds": seconds,
        "count": report.records_loaded,
        "put_calls": CountingClient.calls,
        "expected_calls": n,
    }


CASES = {"baseline": baseline, "process": process, "small-files": small_files, "submit": submit_latency, "load": load}

if __name__ == "__main__":
    from entrypoints.memory import use_system_allocator

    use_system_allocator()  # as the worker and the CLI run
    outcome = CASES[sys.argv[1]](*sys.argv[2:])
    outcome["peak_rss_mib"] = peak_rss_mib()
    print(json.dumps(outcome))
