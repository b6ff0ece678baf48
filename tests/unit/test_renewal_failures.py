"""A renewal or delete the queue refuses never abandons a file: the lane waits for the file it
started, records it, and goes on. A message that is no longer this worker's (taken over after
its visibility lapsed: on a busy machine, or a queue that answered late) is left to its new
holder, whose outputs replace the same ones; any other refusal is tried again at the next
heartbeat. Seen under CPU load on the moto server: a refused renewal was counted as "processing
failed", the lane moved on while the file was still running, and the worker exited 1."""

from __future__ import annotations

import logging
import threading

import pytest

from adapters.s3_events import object_created_event
from application.errors import ConfigurationError, MessageNotHeld, TransientError
from entrypoints.worker.loop import Worker
from tests.unit.test_worker_loop import RecordingProcess


class RefusingQueue:
    """Wraps the in-memory queue: its first ``refusals`` renewals raise ``error``; every
    renewal asked for is counted, and ``enough`` is set after ``wanted`` of them."""

    def __init__(self, inner, error: Exception, refusals: int = 1, wanted: int = 3) -> None:
        self.inner, self.error, self.refusals, self.wanted = inner, error, refusals, wanted
        self.asked = 0
        self.handles: list[str] = []  # of every renewal asked for
        self.enough = threading.Event()

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def change_visibility(self, receipt_handle: str, timeout_seconds: int) -> None:
        self.asked += 1
        self.handles.append(receipt_handle)
        if self.asked >= self.wanted or isinstance(self.error, MessageNotHeld):
            self.enough.set()  # a lost message is not renewed again: nothing more to wait for
        if self.asked <= self.refusals:
            raise self.error
        self.inner.change_visibility(receipt_handle, timeout_seconds)


class WaitingProcess(RecordingProcess):
    """Works until the queue has seen enough renewals: the same steps on any machine."""

    def __init__(self, queue: RefusingQueue) -> None:
        super().__init__()
        self.queue = queue

    def __call__(self, key: str):
        assert self.queue.enough.wait(timeout=60)
        return super().__call__(key)


def run_one(queue, error: Exception, refusals: int = 1):
    queue.send(object_created_event("raw", "a.json", 1))
    queue.send(object_created_event("raw", "b.json", 1))
    refusing = RefusingQueue(queue, error, refusals)
    process = WaitingProcess(refusing)
    stats = Worker(refusing, process, visibility_timeout=60, heartbeat_seconds=0.05).run(drain=True)
    return stats, process, refusing


def test_a_message_taken_over_is_finished_here_left_to_its_holder_and_not_a_failure(queue, caplog) -> None:
    with caplog.at_level(logging.WARNING):
        stats, process, refusing = run_one(queue, MessageNotHeld("receipt handle has expired"))
    assert process.keys == ["a.json", "b.json"]  # a.json finished, then the lane went on
    assert stats.files_processed == 2 and stats.failures == 0 and stats.taken_over == 1
    assert len(queue.messages) == 1  # a.json's message is its new holder's to delete, not ours
    assert refusing.handles.count("1") == 1  # a.json's message, lost, is not renewed again
    (warning,) = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert warning.getMessage() == (
        "message taken over after its visibility lapsed: the file was finished here and "
        "its new holder writes the same outputs again (nothing doubles)"
    )
    assert warning.raw_key == "a.json" and warning.message_id


@pytest.mark.parametrize(
    "error",
    [
        TransientError("AWS is busy (Throttling); try again later"),
        ConnectionError("queue out of reach"),
        ConfigurationError("access to queue 'q' was denied", "SQS_QUEUE_URL"),
        RuntimeError("anything else"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_a_refused_renewal_is_tried_again_and_the_file_is_done_and_deleted(queue, caplog, error) -> None:
    with caplog.at_level(logging.WARNING):
        stats, process, refusing = run_one(queue, error, refusals=2)
    assert process.keys == ["a.json", "b.json"]
    assert stats.files_processed == 2 and stats.failures == 0 and stats.taken_over == 0
    assert queue.messages == {}  # both deleted: the message was still ours
    assert refusing.asked >= 3  # renewed again after the refusals
    refused = [r for r in caplog.records if r.getMessage().startswith("renewing the message's visibility failed")]
    assert len(refused) == 2 and refused[0].error == str(error) and refused[0].raw_key == "a.json"


def test_a_delete_refused_because_the_message_was_taken_over_is_not_a_failure(queue, caplog) -> None:
    class TakenBeforeTheDelete(RefusingQueue):
        def delete(self, receipt_handle: str) -> None:
            raise MessageNotHeld("receipt handle has expired")

    queue.send(object_created_event("raw", "a.json", 1))
    refusing = TakenBeforeTheDelete(queue, RuntimeError("unused"), refusals=0, wanted=0)
    with caplog.at_level(logging.WARNING):
        stats = Worker(refusing, RecordingProcess()).run(drain=True)
    assert stats.files_processed == 1 and stats.failures == 0 and stats.taken_over == 1
    assert [r.getMessage() for r in caplog.records] == [
        "message taken over after its visibility lapsed: the file was finished here and "
        "its new holder writes the same outputs again (nothing doubles)"
    ]
    assert stats.summary()["taken_over"] == 1
