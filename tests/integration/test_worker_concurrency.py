"""Several workers on one SQLite queue: each file is processed exactly once."""

from __future__ import annotations

import threading
import time
from collections import Counter

from adapters.local.sqlite_queue import SqliteQueue
from adapters.s3_events import object_created_event
from application.processing.process_raw_file import ProcessResult
from entrypoints.worker.loop import Worker


def test_two_workers_with_a_short_visibility_timeout_never_share_a_file(tmp_path) -> None:
    # A worker must not hold messages it is not working on: with a 1 s timeout, a message
    # held (but not heartbeated) while another file is processed would reappear for the
    # second worker, and its file would be processed twice, at the same time.
    queue = SqliteQueue(tmp_path / "q.sqlite", visibility_timeout=1)
    keys = [f"service-records/date=2026-11-25/f{i:02d}.json" for i in range(8)]
    for key in keys:
        queue.send(object_created_event("raw", key, 1))
    processed: Counter[str] = Counter()
    lock = threading.Lock()

    def slow_process(key: str) -> ProcessResult:
        time.sleep(0.6)
        with lock:
            processed[key] += 1
        return ProcessResult(key, "processed", 1, 1, 0)

    workers = [Worker(queue, slow_process, visibility_timeout=1) for _ in range(2)]
    threads = [threading.Thread(target=w.run, kwargs={"drain": True}) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert processed == Counter({key: 1 for key in keys})
    assert queue.stats().visible + queue.stats().in_flight == 0
