"""A worker killed (SIGKILL) in the middle of a file: after the visibility timeout the message
comes back, a new worker processes the file, and every row is accounted for exactly once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest

from adapters.local.sqlite_queue import SqliteQueue
from entrypoints.sample_data import generate_records

SERVICEPIPE = str(Path(sys.executable).parent / "servicepipe")
pytestmark = pytest.mark.slow


def test_a_killed_worker_s_file_is_processed_once_after_the_visibility_timeout(tmp_path) -> None:
    data = tmp_path / "d"
    big = tmp_path / "big.jsonl"
    big.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in generate_records(40_000, seed=3)))
    subprocess.run([SERVICEPIPE, "--data-dir", str(data), "upload", str(big)], check=True, capture_output=True)
    worker = subprocess.Popen(
        [SERVICEPIPE, "--data-dir", str(data), "--log-level", "INFO", "worker", "--visibility-timeout", "2"],
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "SERVICEPIPE_BATCH_BYTES": "65536"},
    )
    assert worker.stderr is not None
    for line in worker.stderr:  # wait until it holds the file
        if "processing raw file" in line:
            break
    time.sleep(0.5)
    worker.send_signal(signal.SIGKILL)
    worker.wait(timeout=10)
    queue = SqliteQueue(data / "queue.sqlite")
    assert (queue.stats().visible, queue.stats().in_flight) == (0, 1)  # held by the dead worker
    assert not list((data / "cleaned").rglob("manifests/**/*.json"))  # nothing committed
    time.sleep(2.5)
    assert queue.stats().visible == 1  # back after the visibility timeout

    again = subprocess.run(
        [SERVICEPIPE, "--data-dir", str(data), "worker", "--drain", "--visibility-timeout", "2"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["files_processed"] == 1
    status = json.loads(
        subprocess.run(
            [SERVICEPIPE, "--data-dir", str(data), "status", "--json"], capture_output=True, text=True
        ).stdout
    )
    assert status["processed_files"] == 1 and status["valid_rows"] + status["rejected_rows"] == 40_000
    assert not [p for p in data.rglob("*") if p.name.startswith(".tmp-")]  # no partial output visible


def test_a_visibility_timeout_of_zero_is_refused(tmp_path) -> None:
    done = subprocess.run(
        [SERVICEPIPE, "--data-dir", str(tmp_path), "worker", "--visibility-timeout", "0"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2 and "at least 1 second" in done.stderr
