"""A worker process holds several small files at once, each processed exactly once, and a big
file alone; on the SQLite queue that `servicepipe worker` uses."""

from __future__ import annotations

import threading
import time

from adapters.local.sqlite_queue import SqliteQueue
from adapters.s3_events import object_created_event
from application.processing.process_raw_file import ProcessResult
from entrypoints.worker.file_gate import SMALL_FILE_BYTES
from entrypoints.worker.loop import run_worker


class SlowProcess:
    """Takes ``seconds`` per file (as a file waiting on S3 would); counts files at once."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.done: list[str] = []
        self.at_once = self.most_at_once = self.started_with_others = 0
        self.alone_while: dict[str, int] = {}
        self.lock = threading.Lock()

    def __call__(self, key: str) -> ProcessResult:
        with self.lock:
            self.at_once += 1
            self.most_at_once = max(self.most_at_once, self.at_once)
            self.started_with_others += self.at_once > 1
        time.sleep(self.seconds)
        with self.lock:
            self.alone_while[key] = self.at_once
            self.at_once -= 1
            self.done.append(key)
        return ProcessResult(key, "processed", 10, 10, 0)


def test_small_files_are_processed_several_at_once_each_exactly_once(tmp_path) -> None:
    queue = SqliteQueue(tmp_path / "queue.sqlite")
    keys = [f"service-records/date=2026-11-25/small-{i:03d}.json" for i in range(40)]
    for key in keys:
        queue.send(object_created_event("raw", key, 8_000))
    process = SlowProcess(0.1)
    stats = run_worker(queue, process, drain=True, files_in_flight=8)
    assert sorted(process.done) == keys  # each once
    # Several at once, counted rather than timed (a busy machine stretches any time): one
    # after another, no file would start while another is in hand.
    assert 4 <= process.most_at_once <= 8 and process.started_with_others >= 30
    assert stats.files_processed == 40 and stats.messages == 40 and stats.failures == 0
    assert queue.stats().visible == 0 and queue.stats().in_flight == 0


def test_a_big_file_is_processed_alone(tmp_path) -> None:
    queue = SqliteQueue(tmp_path / "queue.sqlite")
    for i in range(6):
        queue.send(object_created_event("raw", f"small-{i}.json", 8_000))
    queue.send(object_created_event("raw", "big.jsonl", SMALL_FILE_BYTES * 100))
    for i in range(6, 12):
        queue.send(object_created_event("raw", f"small-{i}.json", 8_000))
    process = SlowProcess(0.1)
    stats = run_worker(queue, process, drain=True, files_in_flight=4)
    assert stats.files_processed == 13 and len(set(process.done)) == 13
    assert process.alone_while["big.jsonl"] == 1  # nothing else in hand while it ran
    assert process.most_at_once > 1
