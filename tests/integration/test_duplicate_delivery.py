"""The same S3 event delivered twice, at once and one after the other: one set of outputs, one
copy of each record in the cleaned data and the table."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import orjson
import pyarrow.parquet as pq
import pytest

from adapters.local.sqlite_queue import SqliteQueue
from adapters.s3_events import object_created_event
from entrypoints.sample_data import generate_records

SERVICEPIPE = str(Path(sys.executable).parent / "servicepipe")
pytestmark = pytest.mark.slow


def cli(data: Path, *args: str) -> dict:
    done = subprocess.run([SERVICEPIPE, "--data-dir", str(data), *args], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.parametrize("in_flight", ["8", "1"], ids=["at-once", "one-after-the-other"])
def test_a_twice_delivered_event_makes_one_set_of_outputs(tmp_path, in_flight) -> None:
    import os

    data = tmp_path / "d"
    source = tmp_path / "small.jsonl"
    source.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in generate_records(300, seed=9)))
    key = cli(data, "upload", str(source))["file_key"]
    size = (data / "raw" / key).stat().st_size
    SqliteQueue(data / "queue.sqlite").send(object_created_event("raw", key, size))  # the duplicate
    done = subprocess.run(
        [SERVICEPIPE, "--data-dir", str(data), "worker", "--drain"],
        capture_output=True,
        text=True,
        env={**os.environ, "SERVICEPIPE_FILES_IN_FLIGHT": in_flight},
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["files_processed"] == 2  # both messages handled and deleted
    subprocess.run([SERVICEPIPE, "--data-dir", str(data), "load"], check=True, capture_output=True)
    status = cli(data, "status", "--json")
    assert status["processed_files"] == 1 and status["queued"] == 0
    assert status["valid_rows"] + status["rejected_rows"] == 300
    facts = list((data / "cleaned" / "parquet" / "fact_service_records").rglob("*.parquet"))
    assert len(facts) == 1
    ids = pq.read_table(facts[0]).column("service_record_id").to_pylist()
    assert len(ids) == len(set(ids)) == status["valid_rows"]
    assert status["loaded_records"] == status["valid_rows"]  # one copy each in the table
    assert not [p for p in data.rglob("*") if p.name.startswith(".tmp-")]


@pytest.mark.parametrize("in_flight", [8, 1], ids=["at-once", "one-after-the-other"])
def test_a_twice_delivered_event_makes_one_set_of_outputs_on_moto(tmp_path, in_flight, request) -> None:
    from entrypoints.worker.loop import run_worker
    from tests.integration.backends import backend

    request.getfixturevalue("aws_env")
    with backend("moto", tmp_path, visibility_timeout=30) as b:
        key = "service-records/date=2026-11-25/10-00-00_small.jsonl"
        body = b"".join(orjson.dumps(r) + b"\n" for r in generate_records(300, seed=9))
        b.raw.put_bytes(key, body, {"ingested-at": "2026-11-25T10:00:00+00:00", "submission-id": "small"})
        b.queue.send(object_created_event(b.stack.raw_bucket, key, len(body)))  # the duplicate
        stats = run_worker(b.queue, b.process(), drain=True, visibility_timeout=30, files_in_flight=in_flight)
        assert (stats.messages, stats.files_processed, stats.failures) == (2, 2, 0)
        assert b.load().ok
        assert len(list(b.cleaned.list_keys("manifests/"))) == 1
        (fact,) = list(b.cleaned.list_keys("parquet/fact_service_records/"))
        ids = pq.read_table(io.BytesIO(b.cleaned.read_bytes(fact))).column("service_record_id").to_pylist()
        report = b.reconcile("2026-11-25")
        assert report.ok and len(ids) == len(set(ids)) == report.cleaned_rows == report.loaded_rows
        assert report.cleaned_rows + report.rejected_rows == 300
