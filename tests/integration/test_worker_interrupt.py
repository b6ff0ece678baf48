"""Ctrl-C on ``servicepipe worker``: idle, it stops at once; busy, it says it is finishing
the file, and a second Ctrl-C stops it at once and gives the message back."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import orjson
import pytest

from adapters.local.sqlite_queue import SqliteQueue
from entrypoints.sample_data import generate_records
from entrypoints.worker.loop import GIVE_BACK_SECONDS

SERVICEPIPE = str(Path(sys.executable).parent / "servicepipe")
pytestmark = pytest.mark.slow


class Running:
    """A worker subprocess whose stderr is collected line by line."""

    def __init__(self, data: Path, *extra: str, env: dict[str, str] | None = None) -> None:
        self.lines: list[str] = []
        self.process = subprocess.Popen(
            [SERVICEPIPE, "--data-dir", str(data), "--log-level", "INFO", "worker", *extra],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, **(env or {})},
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.append(line)

    def wait_for(self, text: str, seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        while not any(text in line for line in self.lines):
            assert time.monotonic() < deadline, f"no {text!r} in {self.lines}"
            time.sleep(0.05)

    def interrupt_and_time_exit(self) -> float:
        started = time.monotonic()
        self.process.send_signal(signal.SIGINT)
        self.process.wait(timeout=30)
        self._reader.join(timeout=5)
        return time.monotonic() - started


def status(data: Path) -> dict:
    done = subprocess.run([SERVICEPIPE, "--data-dir", str(data), "status", "--json"], capture_output=True, text=True)
    return json.loads(done.stdout)


def test_an_idle_worker_stops_at_once_on_ctrl_c(tmp_path) -> None:
    worker = Running(tmp_path)
    deadline = time.monotonic() + 30
    while not (tmp_path / "queue.sqlite").exists():  # it is polling the queue
        assert time.monotonic() < deadline
        time.sleep(0.05)
    time.sleep(1.0)
    assert worker.interrupt_and_time_exit() < 2
    assert worker.process.returncode == 130
    assert "Traceback" not in "".join(worker.lines)


def test_a_busy_worker_finishes_on_ctrl_c_and_stops_now_on_the_second(tmp_path) -> None:
    big = tmp_path / "big.jsonl"
    big.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in generate_records(60_000, seed=1)))
    upload = [SERVICEPIPE, "--data-dir", str(tmp_path / "d"), "upload", str(big)]
    subprocess.run(upload, check=True, capture_output=True)
    # Small batches make the file take long enough to interrupt.
    worker = Running(tmp_path / "d", env={"SERVICEPIPE_BATCH_BYTES": "65536"})
    worker.wait_for("processing raw file")
    worker.process.send_signal(signal.SIGINT)
    worker.wait_for("finishing the files in hand; Ctrl-C again to stop now")
    assert worker.process.poll() is None  # still finishing
    # At once: not after the file (nothing processed) nor after the idle lanes' 20 s long
    # polls; the bound is one a loaded machine keeps.
    assert worker.interrupt_and_time_exit() < 10
    assert worker.process.returncode == 130
    assert status(tmp_path / "d")["processed_files"] == 0
    # Given back: visible again within GIVE_BACK_SECONDS (not held for the 300 s timeout),
    # received once (the idle lanes did not take it in turn, each receive counting to the DLQ).
    with sqlite3.connect(tmp_path / "d" / "queue.sqlite") as db:
        ((visible_at, receive_count),) = db.execute("SELECT visible_at, receive_count FROM messages").fetchall()
    assert receive_count == 1, "".join(worker.lines)
    assert visible_at <= time.time() + GIVE_BACK_SECONDS
    assert SqliteQueue(tmp_path / "d" / "queue.sqlite").stats().dead_letter == 0
    assert "Traceback" not in "".join(worker.lines)
