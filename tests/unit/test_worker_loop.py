"""The worker's message handling: S3 events in, delete only when every output exists."""

from __future__ import annotations

import _thread
import json
import os
import signal
import threading
import time
from collections.abc import Callable

import pytest

from adapters.s3_events import object_created_event, object_keys
from application.errors import RawFileMissing
from application.processing.process_raw_file import ProcessResult
from entrypoints.worker.loop import GIVE_BACK_SECONDS, Worker, give_back_seconds, run_worker


class RecordingProcess:
    def __init__(self, fail_on: set[str] | None = None, missing: set[str] | None = None) -> None:
        self.keys: list[str] = []
        self.fail_on, self.missing = fail_on or set(), missing or set()

    def __call__(self, key: str) -> ProcessResult:
        if key in self.missing:
            raise RawFileMissing(key)
        if key in self.fail_on:
            raise TimeoutError("storage throttled")
        self.keys.append(key)
        return ProcessResult(key, "processed", 1, 1, 0)


def two_record_event(*keys: str) -> str:
    records = [json.loads(object_created_event("raw", k, 1))["Records"][0] for k in keys]
    return json.dumps({"Records": records})


def test_object_keys_are_url_decoded() -> None:
    body = object_created_event("raw", "service-records/date=2026-11-25/dealer 7+a&b.json", 10)
    assert "dealer+7%2Ba%26b" in body
    assert object_keys(body) == ["service-records/date=2026-11-25/dealer 7+a&b.json"]


def test_s3_test_event_is_deleted_and_ignored(queue) -> None:
    queue.send(json.dumps({"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": "raw"}))
    process = RecordingProcess()
    stats = run_worker(queue, process, drain=True)
    assert process.keys == [] and queue.messages == {} and stats.messages == 1


def test_every_record_of_a_message_is_processed_before_the_delete(queue) -> None:
    queue.send(two_record_event("a.json", "b.json"))
    process = RecordingProcess()
    run_worker(queue, process, drain=True)
    assert process.keys == ["a.json", "b.json"] and queue.messages == {}


@pytest.mark.parametrize("body", ["not json", "{}", '{"Records": []}', '{"Records": [{"s3": {}}]}', "[1]"])
def test_a_body_that_is_not_an_s3_event_is_left_for_the_dlq(queue, body) -> None:
    queue.send(body)
    stats = run_worker(queue, RecordingProcess(), drain=True)
    assert stats.failures == 1 and len(queue.messages) == 1


def test_a_transient_failure_leaves_the_message_for_a_retry(queue) -> None:
    queue.send(two_record_event("a.json", "b.json"))
    worker = Worker(queue, RecordingProcess(fail_on={"b.json"}))
    (message,) = queue.receive()
    assert worker.handle(message) is False
    assert len(queue.messages) == 1 and worker.stats.failures == 1


def test_a_vanished_object_does_not_block_the_message(queue) -> None:
    queue.send(two_record_event("gone.json", "b.json"))
    process = RecordingProcess(missing={"gone.json"})
    run_worker(queue, process, drain=True)
    assert process.keys == ["b.json"] and queue.messages == {}


class RecordingQueue:
    """An in-memory queue that also records visibility changes."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.visibility: list[int] = []

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def change_visibility(self, receipt_handle: str, timeout_seconds: int) -> None:
        self.visibility.append(timeout_seconds)
        self.inner.change_visibility(receipt_handle, timeout_seconds)


class SlowProcess(RecordingProcess):
    def __init__(self, seconds: float) -> None:
        super().__init__()
        self.seconds = seconds

    def __call__(self, key: str) -> ProcessResult:
        time.sleep(self.seconds)
        return super().__call__(key)


def test_a_heartbeat_extends_visibility_while_a_file_processes(queue) -> None:
    recording = RecordingQueue(queue)
    queue.send(object_created_event("raw", "a.json", 1))
    Worker(recording, SlowProcess(0.5), visibility_timeout=60, heartbeat_seconds=0.1).run(drain=True)
    assert recording.visibility.count(60) >= 3 and queue.messages == {}


def test_stop_mid_file_finishes_it_within_the_grace_period(queue) -> None:
    queue.send(object_created_event("raw", "a.json", 1))
    queue.send(object_created_event("raw", "b.json", 1))
    process = SlowProcess(0.4)
    worker = Worker(queue, process, grace_seconds=5)
    threading.Timer(0.1, worker.stop.set).start()
    stats = worker.run(drain=True)
    assert process.keys == ["a.json"]  # finished the file in hand, started nothing new
    assert len(queue.messages) == 1 and queue.in_flight == set()  # b.json was never taken: not lost
    assert stats.released == 0


def test_stop_past_the_grace_period_releases_the_message(queue) -> None:
    recording = RecordingQueue(queue)
    queue.send(object_created_event("raw", "a.json", 1))
    worker = Worker(recording, SlowProcess(3), grace_seconds=0.2)
    threading.Timer(0.1, worker.stop.set).start()
    started = time.monotonic()
    stats = worker.run(drain=True)
    assert time.monotonic() - started < 2
    assert stats.released == 1 and recording.visibility[-1] == GIVE_BACK_SECONDS and len(queue.messages) == 1


def test_a_message_in_hand_is_given_back_once_whoever_asks(queue) -> None:
    queue.send(object_created_event("raw", "a.json", 10))
    (message,) = queue.receive(1)
    calls = []
    queue.change_visibility = lambda handle, seconds: calls.append((handle, seconds))
    worker = Worker(queue, RecordingProcess())
    worker.in_hand = message
    worker.release_in_hand()  # the main thread
    worker.release_in_hand()  # the lane, a moment later
    assert (
        calls == [(message.receipt_handle, GIVE_BACK_SECONDS)] and worker.stats.released == 1 and worker.in_hand is None
    )


def test_a_released_message_is_not_extended_by_the_lane_still_working(queue) -> None:
    """Seen in CI: the main thread gave the message back on a second Ctrl-C, then the lane,
    still working, heartbeated it invisible again for the whole timeout before the process
    exited. A released message stays released."""
    recording = RecordingQueue(queue)
    queue.send(object_created_event("raw", "a.json", 1))
    (message,) = queue.receive(1)
    worker = Worker(recording, SlowProcess(1.0), visibility_timeout=60, heartbeat_seconds=0.05)
    lane = threading.Thread(target=worker.handle, args=(message,), daemon=True)
    lane.start()
    time.sleep(0.2)  # a few heartbeats
    worker.release_in_hand()
    time.sleep(0.3)  # the lane keeps working for a while
    assert recording.visibility[-1] == GIVE_BACK_SECONDS
    lane.join(timeout=5)


def test_a_failed_receive_is_retried_and_the_worker_goes_on(queue, monkeypatch) -> None:
    """A queue out of reach for a moment (the network, throttling) must not end the worker."""
    from entrypoints.worker import loop as worker_loop

    monkeypatch.setattr(worker_loop, "RECEIVE_BACKOFF_SECONDS", 0.01)
    failing = RecordingQueue(queue)
    attempts = []

    def receive(max_messages: int = 10, wait_seconds: float = 0):
        attempts.append(1)
        if len(attempts) <= 2:
            raise ConnectionError("queue out of reach")
        return queue.receive(max_messages, wait_seconds)

    failing.receive = receive
    queue.send(object_created_event("raw", "a.json", 1))
    process = RecordingProcess()
    run_worker(failing, process, drain=True)
    assert process.keys == ["a.json"] and queue.messages == {} and len(attempts) >= 3


def test_a_failed_delete_leaves_the_message_for_another_run_and_the_worker_goes_on(queue) -> None:
    class DeleteFails(RecordingQueue):
        def delete(self, receipt_handle: str) -> None:
            raise ConnectionError("queue out of reach")

    queue.send(object_created_event("raw", "a.json", 1))
    queue.send(object_created_event("raw", "b.json", 1))
    process = RecordingProcess()
    stats = Worker(DeleteFails(queue), process).run(drain=True)
    assert process.keys == ["a.json", "b.json"] and stats.failures == 2 and len(queue.messages) == 2


class BusyQueueTime:
    """Monotonic time for the worker that moves only when read (a quarter second a reading:
    the lane's loop) or when the queue is slow (``call_seconds`` a call): the same steps on
    any machine, however busy."""

    def __init__(self) -> None:
        self.now = 1_000.0
        self._lock = threading.Lock()

    def monotonic(self) -> float:
        with self._lock:
            self.now += 0.25
            return self.now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.now += seconds

    def sleep(self, seconds: float) -> None:
        time.sleep(min(seconds, 0.01))


class BusyQueue:
    """One message, on a queue that takes ``call_seconds`` to answer each call; its
    visibility starts when a receive or a renewal *lands* (as late as SQS may set it).
    Notes every moment the message was visible while held (a lapse)."""

    def __init__(self, clock: BusyQueueTime, call_seconds: float, timeout: float, renewals_wanted: int) -> None:
        self.clock, self.call_seconds, self.timeout = clock, call_seconds, timeout
        self.sent = [object_created_event("raw", "a.json", 1)]
        self.visible_until = 0.0
        self.lapses: list[float] = []
        self.renewals = 0
        self.enough = threading.Event()
        self.renewals_wanted = renewals_wanted
        self.deleted = False

    def receive(self, max_messages: int = 1, wait_seconds: float = 0):
        from application.ports import Message

        self.clock.advance(self.call_seconds)
        if not self.sent:
            return []
        self.visible_until = self.clock.now + self.timeout
        return [Message("m-1", "r-1", self.sent.pop(), 1)]

    def change_visibility(self, receipt_handle: str, timeout_seconds: int) -> None:
        self.clock.advance(self.call_seconds)
        landed = self.clock.now
        if landed > self.visible_until:
            self.lapses.append(round(landed - self.visible_until, 2))
        self.visible_until = landed + timeout_seconds
        self.renewals += 1
        if self.renewals >= self.renewals_wanted:
            self.enough.set()

    def delete(self, receipt_handle: str) -> None:
        self.deleted = True


def test_renewals_keep_a_file_invisible_on_a_queue_that_answers_slowly(monkeypatch) -> None:
    """Each renewal is timed from when the previous one was asked for, not from when it came
    back: a queue taking 2.2 s of a 3 s visibility timeout to answer every call must never
    let the message be seen while its file is processed. (Timed from the answer, the next
    renewal came a whole call later, and landed after the timeout.)"""
    import entrypoints.worker.loop as worker_loop

    clock = BusyQueueTime()
    monkeypatch.setattr(worker_loop, "time", clock)
    queue = BusyQueue(clock, call_seconds=2.2, timeout=3, renewals_wanted=6)

    def process(key: str) -> ProcessResult:
        assert queue.enough.wait(timeout=60)
        return ProcessResult(key, "processed", 1, 1, 0)

    stats = Worker(queue, process, visibility_timeout=3, heartbeat_seconds=1.0).run(drain=True)
    assert stats.files_processed == 1 and queue.deleted
    assert queue.renewals >= 6 and queue.lapses == []


def test_the_use_case_is_built_once_when_the_first_file_comes(queue) -> None:
    from entrypoints.worker.loop import BuiltOnFirstFile

    built: list[RecordingProcess] = []

    def build() -> RecordingProcess:
        built.append(RecordingProcess())
        return built[-1]

    process = BuiltOnFirstFile(build)
    run_worker(queue, process, drain=True, files_in_flight=4)
    assert built == []  # an empty queue: nothing built, nothing imported
    for key in ("a.json", "b.json", "c.json"):
        queue.send(object_created_event("raw", key, 1))
    run_worker(queue, process, drain=True, files_in_flight=4)
    assert len(built) == 1 and sorted(built[0].keys) == ["a.json", "b.json", "c.json"]


class LongPollingQueue(RecordingQueue):
    """A queue that long-polls as SQS and the SQLite queue do (a message given back is
    visible again after the time it was given), and notes every receive that hands one out."""

    def __init__(self, inner) -> None:
        super().__init__(inner)
        self.receipts: list[str] = []
        self.lock, self._hidden_until = threading.Lock(), 0.0
        self.open_polls = 0

    def change_visibility(self, receipt_handle: str, timeout_seconds: int) -> None:
        with self.lock:
            super().change_visibility(receipt_handle, 0)
            self.visibility[-1] = timeout_seconds
            self._hidden_until = time.monotonic() + timeout_seconds

    def receive(self, max_messages: int = 10, wait_seconds: float = 0) -> list:
        deadline = time.monotonic() + wait_seconds
        with self.lock:
            self.open_polls += 1
        while True:
            with self.lock:
                ready = time.monotonic() >= self._hidden_until
                messages = self.inner.receive(max_messages) if ready else []
                self.receipts += [m.receipt_handle for m in messages]
                if messages or time.monotonic() >= deadline:
                    self.open_polls -= 1
                    return messages
            time.sleep(0.05)


def held_until(finish: threading.Event) -> Callable[[str], ProcessResult]:
    """A file's processing that lasts until ``finish`` is set (30 s at most)."""

    def process(key: str) -> ProcessResult:
        finish.wait(30)
        return ProcessResult(key, "processed", 1, 1, 0)

    return process


def test_a_stop_now_gives_the_message_back_to_the_queue_not_to_an_idle_lane(queue) -> None:
    """Seen in CI (a fresh clone, 8 lanes): on a second Ctrl-C the main thread gave the busy
    lane's message back, and the idle lanes' long polls took it in turn, each receive counting
    towards the DLQ, the last one as the process exited (invisible for the whole timeout)."""
    polling = LongPollingQueue(queue)
    queue.send(object_created_event("raw", "a.json", 1))
    finish = threading.Event()
    process = held_until(finish)

    threading.Timer(0.5, _thread.interrupt_main).start()  # as a second Ctrl-C does
    try:
        stats = run_worker(polling, process, files_in_flight=4)  # three lanes idle in a long poll
        time.sleep(1.0)  # the idle lanes, still polling, would take it now
    finally:
        finish.set()
    assert stats.interrupted and stats.released == 1
    assert len(polling.receipts) == 1 and polling.visibility == [GIVE_BACK_SECONDS]


def test_a_stop_now_while_the_lanes_are_starting_still_gives_the_message_back(queue, monkeypatch) -> None:
    """Seen in CI under load: the first lane took a file before the last lane had started,
    and the second Ctrl-C, landing in the main thread's starting of the lanes, escaped
    ``run_worker`` without giving the message back (held for the whole visibility timeout)."""
    recording = RecordingQueue(queue)
    queue.send(object_created_event("raw", "a.json", 1))
    finish = threading.Event()
    start = threading.Thread.start
    process = held_until(finish)

    def start_slowly(thread: threading.Thread) -> None:
        start(thread)
        if thread.name == "lane-1":  # the first lane is busy with the file by now
            deadline = time.monotonic() + 10
            while not queue.in_flight and time.monotonic() < deadline:
                time.sleep(0.01)
            _thread.interrupt_main()  # as a second Ctrl-C does, while the lanes still start
            time.sleep(0.3)

    monkeypatch.setattr(threading.Thread, "start", start_slowly)
    escaped = False
    try:
        stats = run_worker(recording, process, files_in_flight=3)
    except KeyboardInterrupt:
        escaped = True
    finally:
        finish.set()
    assert not escaped and stats.interrupted and stats.released == 1
    assert recording.visibility == [GIVE_BACK_SECONDS]


@pytest.fixture
def signal_handlers():
    """run_worker(stop_on_signals=True) installs handlers for SIGTERM and SIGINT: put back."""
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
    yield
    for sig, handler in saved.items():
        signal.signal(sig, handler)


def test_a_message_received_while_stopping_is_given_back_past_the_other_lanes_polls(queue, signal_handlers) -> None:
    """Seen in CI (the Fargate worker on SIGTERM, 8 lanes): a message that reached an idle
    lane's long poll after the stop was given back visible 5 s later, and the other lanes,
    still polling for up to 20 s, took it in turn: 4 receives (of the DLQ's 5) in one stop."""
    polling = LongPollingQueue(queue)
    queue.send(object_created_event("raw", "a.json", 1))
    finish = threading.Event()
    process = held_until(finish)

    def stop_then_another_message_comes() -> None:
        while not (queue.in_flight and polling.open_polls == 3):  # a lane busy, three polling
            time.sleep(0.01)
        os.kill(os.getpid(), signal.SIGTERM)  # as ECS stops a task
        time.sleep(0.2)
        with polling.lock:  # reaches a lane's open poll
            queue.send(object_created_event("raw", "b.json", 1))
        threading.Timer(1.0, finish.set).start()

    threading.Thread(target=stop_then_another_message_comes, daemon=True).start()
    try:  # polls of 6 s: a message given back visible 5 s later would be taken again
        stats = run_worker(polling, process, files_in_flight=4, stop_on_signals=True, wait_seconds=6)
    finally:
        finish.set()
    assert stats.files_processed == 1 and stats.released == 1
    assert len(polling.receipts) == 2  # a.json once, b.json once
    assert polling.visibility == [give_back_seconds(6)] == [11]
    assert [object_keys(m.body) for m in queue.messages.values()] == [["b.json"]]
