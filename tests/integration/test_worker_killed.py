"""A worker killed (SIGKILL) in the middle of a big file, on local adapters and on a moto
server: no output is visible, the message comes back after the visibility timeout, a new
worker processes the file once, and its outputs are those of an uninterrupted run."""

from __future__ import annotations

import io
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pyarrow.parquet as pq
import pytest

from application.storage_keys import PARQUET_PREFIX, output_keys
from domain.star_schema import TABLES
from entrypoints.sample_data import generate_records

pytestmark = pytest.mark.slow
RECORDS = 15_000


def outputs(b, raw_key: str) -> dict[str, list[dict]]:
    """Every output table of the file, row by row."""
    keys = output_keys(raw_key, b.raw.head(raw_key).last_modified)
    return {table: pq.read_table(io.BytesIO(b.cleaned.read_bytes(keys.parquet(table)))).to_pylist() for table in TABLES}


def test_a_killed_worker_s_file_is_processed_once_with_the_outputs_of_an_uninterrupted_run(served, tmp_path) -> None:
    b = served
    body = b"".join(orjson.dumps(r) + b"\n" for r in generate_records(RECORDS, seed=3))
    raw_key = "service-records/date=2026-11-25/10-00-00_big.jsonl"
    b.raw.put_bytes(raw_key, body, {"ingested-at": "2026-11-25T10:00:00+00:00", "submission-id": "big"})
    servicepipe, env = b.command_line(tmp_path / "d")
    env = {**env, "SERVICEPIPE_BATCH_BYTES": "65536"}  # small batches: the file takes a while
    # One lane: a moto server goes on serving a killed client's open long polls, and each
    # would take the message as soon as it came back (a receive no one will ever see).
    killed_env = {**env, "SERVICEPIPE_FILES_IN_FLIGHT": "1"} if b.stack is not None else env
    worker = subprocess.Popen(
        [*servicepipe, "--log-level", "INFO", "worker", "--visibility-timeout", "2"],
        stderr=subprocess.PIPE,
        text=True,
        env=killed_env,
    )
    assert worker.stderr is not None
    for line in worker.stderr:  # wait until it holds the file
        if "processing raw file" in line:
            break
    time.sleep(0.5)
    worker.send_signal(signal.SIGKILL)
    worker.wait(timeout=10)
    stats = b.queue.stats()
    assert (stats.visible, stats.in_flight) == (0, 1)  # held by the dead worker
    assert not list(b.cleaned.list_keys("manifests/")) and not list(b.cleaned.list_keys(PARQUET_PREFIX))
    time.sleep(2.5)
    assert b.queue.stats().visible == 1  # back after the visibility timeout

    drain = [*servicepipe, "worker", "--drain", "--visibility-timeout", "2"]
    again = subprocess.run(drain, capture_output=True, text=True, timeout=300, env=env)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["files_processed"] == 1
    after_kill = outputs(b, raw_key)
    report = b.reconcile("2026-11-25")
    assert report.ok and report.raw_rows == RECORDS == report.cleaned_rows + report.rejected_rows

    # The same file processed again, uninterrupted: the very same rows.
    replay = subprocess.run([*servicepipe, "replay", raw_key], capture_output=True, text=True, env=env)
    assert replay.returncode == 0, replay.stderr
    uninterrupted = subprocess.run(drain, capture_output=True, text=True, timeout=300, env=env)
    assert uninterrupted.returncode == 0, uninterrupted.stderr
    assert outputs(b, raw_key) == after_kill
    if b.stack is None:
        assert not [p for p in (tmp_path / "d").rglob("*") if p.name.startswith(".tmp-")]  # no partial file


def test_a_visibility_timeout_of_zero_is_refused(tmp_path) -> None:
    servicepipe = str(Path(sys.executable).parent / "servicepipe")
    done = subprocess.run(
        [servicepipe, "--data-dir", str(tmp_path), "worker", "--visibility-timeout", "0"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2 and "at least 1 second" in done.stderr
