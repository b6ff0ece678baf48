"""The queue worker: S3 event messages in, ProcessRawFile per object, delete when done.

Shared by ``servicepipe worker`` and the Fargate worker. A message is deleted only after
every object it names has all its outputs written. A permanent failure (an unreadable file)
is written to the error store by the use-case and counts as done; any other failure leaves
the message for another try, so that after the queue's maximum receives it lands in the
dead-letter queue. While a file is processing, a heartbeat keeps the message invisible.
A worker (a lane) receives one message at a time: a message held but not being worked on
would not be heartbeated, would reappear after the visibility timeout, and another worker
would process the same file at the same time (and other workers could not take the backlog).
One process runs several lanes (``run_worker(files_in_flight=...)``), so that small files
waiting on the object store overlap; ``FileGate`` keeps big files alone. On stop (SIGTERM),
the lanes receive nothing more, finish the files in hand within the grace period or else
give their messages back (see ``GIVE_BACK_SECONDS``).
"""

from __future__ import annotations

import contextlib
import logging
import math
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from adapters.s3_events import NotAnS3Event, objects_of
from application.errors import ConfigurationError, MessageNotHeld, RawFileMissing
from application.ports import Message, Queue
from entrypoints.worker.file_gate import FileGate

if TYPE_CHECKING:  # the use-case (and its data libraries) is imported by whoever builds it
    from application.processing.process_raw_file import ProcessResult

log = logging.getLogger(__name__)

LONG_POLL_SECONDS = 20
DRAIN_POLL_SECONDS = 1  # a short poll may miss messages on SQS; a 1 s long poll does not
MAX_MESSAGES = 1  # hold only the message in hand (see the module docstring)
STOP_GRACE_SECONDS = 25  # ECS sends SIGKILL 30 s after SIGTERM
# A message given back unfinished is visible again after this long, not at once: the lanes
# of the stopping process still in a long poll would take it in turn (each receive counts
# towards the DLQ). A poll open at the stop ends within its wait, so a little more than that
# (``give_back_seconds``) lets no lane of this process see the message again.
GIVE_BACK_MARGIN_SECONDS = 5
RECEIVE_BACKOFF_SECONDS = 0.5  # doubled after each failed receive in a row, up to the maximum
MAX_RECEIVE_BACKOFF_SECONDS = 20


TAKEN_OVER = (
    "message taken over after its visibility lapsed: the file was finished here and "
    "its new holder writes the same outputs again (nothing doubles)"
)


def give_back_seconds(wait_seconds: float) -> int:
    """The visibility a message given back unfinished gets: past any long poll of
    ``wait_seconds`` still open in the process's other lanes (see GIVE_BACK_SECONDS)."""
    return math.ceil(wait_seconds) + GIVE_BACK_MARGIN_SECONDS


GIVE_BACK_SECONDS = give_back_seconds(LONG_POLL_SECONDS)  # 25 s, at the lanes' usual long poll


class BuiltOnFirstFile:
    """The worker's use-case, built when the first file comes: building it imports pandas,
    pyarrow, polars and pandera (more than a second), which an empty queue never needs. The
    lanes share the one instance, as they would share one built up front."""

    def __init__(self, build: Callable[[], Callable[[str], ProcessResult]]) -> None:
        self._build = build
        self._built: Callable[[str], ProcessResult] | None = None
        self._lock = threading.Lock()

    def __call__(self, key: str) -> ProcessResult:
        with self._lock:
            if self._built is None:
                self._built = self._build()
        return self._built(key)


class Released(Exception):
    """The worker stopped before the file was done and gave its message back."""


@dataclass
class WorkerStats:
    messages: int = 0
    files_processed: int = 0
    files_unreadable: int = 0
    failures: int = 0
    released: int = 0
    taken_over: int = 0  # finished here, but the message was another worker's by then
    interrupted: bool = False
    results: list[ProcessResult] = field(default_factory=list)

    def add(self, other: WorkerStats) -> None:
        """Count ``other``'s messages and files in too (the lanes of one process)."""
        for name in ("messages", "files_processed", "files_unreadable", "failures", "released", "taken_over"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.interrupted = self.interrupted or other.interrupted
        self.results.extend(other.results)

    def summary(self) -> dict[str, int]:
        return {
            "messages": self.messages,
            "files_processed": self.files_processed,
            "files_unreadable": self.files_unreadable,
            "failures": self.failures,
            "released": self.released,
            "taken_over": self.taken_over,
        }


class Worker:
    def __init__(
        self,
        queue: Queue,
        process: Callable[[str], ProcessResult],
        visibility_timeout: int = 300,
        stop: threading.Event | None = None,
        grace_seconds: float = STOP_GRACE_SECONDS,
        heartbeat_seconds: float | None = None,
        gate: FileGate | None = None,
        abort: threading.Event | None = None,
        wait_seconds: float = LONG_POLL_SECONDS,
    ) -> None:
        """``gate`` and ``abort`` are shared by the lanes of one process: the gate admits
        files by size, ``abort`` stops every lane at once (their messages released).
        ``wait_seconds``: each receive's long poll."""
        self.queue, self.process = queue, process
        self.wait_seconds = wait_seconds
        self.give_back_seconds = give_back_seconds(wait_seconds)
        self.gate, self.abort = gate, abort or threading.Event()
        self.visibility_timeout = visibility_timeout
        self.stop = stop or threading.Event()
        self.grace_seconds = grace_seconds
        self.heartbeat_seconds = heartbeat_seconds or max(0.2, visibility_timeout / 3)
        self.stats = WorkerStats()
        self.busy = False  # holding a message
        self.in_hand: Message | None = None
        self._hand = threading.Lock()
        self._visible_since = 0.0  # monotonic; see handle
        self.on_file: Callable[[ProcessResult, float], None] | None = None  # with the seconds it took

    def run(self, drain: bool = False) -> WorkerStats:
        """Handle messages until stopped, or with ``drain`` until the queue is empty.

        A ``KeyboardInterrupt`` (a second Ctrl-C, or one while idle) stops it at once; the
        message in hand is released first.
        """
        receive_failures = 0
        try:
            while not self.stop.is_set():
                if self.gate is not None and not self.gate.wait_to_receive(timeout=0.5):
                    continue  # a big file is in hand: look at the stop flag, then wait on
                asked = time.monotonic()  # the message's visibility starts no earlier than this
                try:
                    messages = self.queue.receive(MAX_MESSAGES, DRAIN_POLL_SECONDS if drain else self.wait_seconds)
                except ConfigurationError:
                    raise  # no such queue, or no right to it: retrying will not mend it
                except Exception as err:  # the network, a throttled queue: wait, then again
                    receive_failures += 1
                    delay = min(MAX_RECEIVE_BACKOFF_SECONDS, RECEIVE_BACKOFF_SECONDS * 2**receive_failures)
                    log.warning("receiving from the queue failed; trying again", extra={"error": str(err)})
                    self.stop.wait(delay)
                    continue
                receive_failures = 0
                if not messages and drain:
                    break
                for message in messages:
                    if self.stop.is_set() or self.abort.is_set():
                        with self._hand:  # given back as a message in hand is, once
                            self.in_hand = message
                        self.release_in_hand()
                        continue
                    self.handle(message, received_since=asked)
        except KeyboardInterrupt:
            self.stats.interrupted = True
        return self.stats

    def handle(self, message: Message, received_since: float | None = None) -> bool:
        """Process every object a message names; True when the message was deleted.
        ``received_since``: when the receive call that brought it began (monotonic)."""
        with self._hand:
            self.busy, self.in_hand = True, message
        try:
            # When the message's visibility last started, at the earliest: the receive call's
            # start, then each renewal's (see _process_with_heartbeat).
            self._visible_since = time.monotonic() if received_since is None else received_since
            return self._handle(message)
        finally:
            with self._hand:
                self.busy, self.in_hand = False, None

    def release_in_hand(self) -> None:
        """Give the message in hand back to the queue (visible again in ``give_back_seconds``),
        once: from this lane or from the process's main thread, whichever comes first."""
        with self._hand:
            message, self.in_hand = self.in_hand, None
            if message is None:
                return
            try:
                self.queue.change_visibility(message.receipt_handle, self.give_back_seconds)
            except Exception as err:  # deleted meanwhile, or the queue out of reach
                log.warning(
                    "message not given back; it reappears after the visibility timeout",
                    extra={"message_id": message.message_id, "error": str(err)},
                )
                return
        self.stats.released += 1
        log.warning("message released unfinished", extra={"message_id": message.message_id})

    def _extend(self, message: Message) -> None:
        # Under the hand's lock: once the message is given back (by the main thread on a
        # second Ctrl-C), a late heartbeat must not hide it again for the whole timeout.
        with self._hand:
            if self.in_hand is message:
                self.queue.change_visibility(message.receipt_handle, self.visibility_timeout)

    def _handle(self, message: Message) -> bool:
        self.stats.messages += 1
        context = {"message_id": message.message_id, "receive_count": message.receive_count}
        try:
            objects = objects_of(message.body)
        except NotAnS3Event as err:
            # Left undeleted on purpose: after the maximum receives it lands in the DLQ.
            log.error("message is not an S3 event", extra={**context, "error": str(err)})
            self.stats.failures += 1
            return False
        if objects is None:
            return self._delete(message, context)
        for key, size in objects:
            started = time.monotonic()
            try:
                result, held = self._process_with_heartbeat(message, key, size)
            except Released:  # already given back and counted (release_in_hand)
                log.warning("stopping: the file is left for another worker", extra={**context, "raw_key": key})
                return False
            except RawFileMissing:
                # Only a missing *raw object* ends a message: any other missing thing is a
                # configuration error and must reach the DLQ, not vanish.
                log.warning("raw object no longer exists; nothing to process", extra={**context, "raw_key": key})
                continue
            except ConfigurationError as err:
                log.error(
                    f"configuration error: {err}; the message will be retried, then moved to the DLQ",
                    extra={**context, "raw_key": key, "setting": err.setting},
                )
                self.stats.failures += 1
                return False
            except Exception:
                log.exception("processing failed; the message will be retried", extra={**context, "raw_key": key})
                self.stats.failures += 1
                return False
            self.stats.results.append(result)
            if self.on_file:
                self.on_file(result, time.monotonic() - started)
            if result.status == "unreadable":
                self.stats.files_unreadable += 1
            else:
                self.stats.files_processed += 1
            if not held:  # its new holder processes every object the message names
                self._taken_over(context, key)
                return False
        return self._delete(message, context)

    def _taken_over(self, context: dict[str, object], key: str | None = None) -> None:
        log.warning(TAKEN_OVER, extra={**context, **({"raw_key": key} if key else {})})
        self.stats.taken_over += 1

    def _delete(self, message: Message, context: dict[str, object]) -> bool:
        try:
            self.queue.delete(message.receipt_handle)
        except MessageNotHeld:
            self._taken_over(context)
            return False
        except Exception as err:
            # The work is done and stays done: the message comes back after the visibility
            # timeout and its files are processed again, replacing the same outputs.
            log.error(
                "message not deleted; it comes back and its files are processed again (nothing doubles)",
                extra={**context, "error": str(err)},
            )
            self.stats.failures += 1
            return False
        return True

    def _process_with_heartbeat(
        self, message: Message, key: str, size: int | None = None
    ) -> tuple[ProcessResult, bool]:
        """Process ``key`` on a thread of its own while this one renews the message's
        visibility every ``heartbeat_seconds``; the result, and whether the message is still
        this worker's. Each renewal is timed from when the last one was *asked for* (the
        visibility it set starts no earlier), never from when it came back: a renewal that
        waited on a busy queue must not push the next one late. A refused renewal never ends
        the wait for the file (see ``_renew``)."""
        outcome: dict[str, object] = {}

        def work() -> None:
            try:
                # Waiting at the gate counts as work: the message is heartbeated meanwhile.
                with self.gate.admit(size) if self.gate is not None else contextlib.nullcontext():
                    outcome["result"] = self.process(key)
            except BaseException as err:  # handed to the calling thread
                outcome["error"] = err

        log.info("processing raw file", extra={"raw_key": key, "message_id": message.message_id})
        thread = threading.Thread(target=work, name=f"process:{key}", daemon=True)
        thread.start()
        next_beat = self._visible_since + self.heartbeat_seconds
        stop_deadline: float | None = None
        held = True
        try:
            while thread.is_alive():
                thread.join(timeout=0.1)
                if self.abort.is_set():
                    raise KeyboardInterrupt  # another lane's process was interrupted: as below
                now = time.monotonic()
                if self.stop.is_set():
                    stop_deadline = stop_deadline or now + self.grace_seconds
                    if now >= stop_deadline and thread.is_alive():
                        self.release_in_hand()
                        raise Released(key)
                if held and now >= next_beat and thread.is_alive():
                    held = self._renew(message, key, asked=now)
                    next_beat = now + self.heartbeat_seconds
        except KeyboardInterrupt:
            # Stopped at once: give the message back, so that another worker takes the file
            # now rather than after the visibility timeout. Its outputs are all or nothing.
            self.release_in_hand()
            raise
        if "error" in outcome:
            raise outcome["error"]  # type: ignore[misc]
        return outcome["result"], held  # type: ignore[return-value]

    def _renew(self, message: Message, key: str, asked: float) -> bool:
        """One heartbeat, asked for at ``asked``; False once the message is no longer held.
        Any other refusal (the network, throttling, a denied call) is logged and tried again
        at the next heartbeat: the file goes on either way, and should the message reappear
        meanwhile, its next holder's outputs replace the same ones."""
        context = {"raw_key": key, "message_id": message.message_id}
        try:
            self._extend(message)
        except MessageNotHeld:
            return False
        except Exception as err:
            log.warning("renewing the message's visibility failed; trying again", extra={**context, "error": str(err)})
            return True
        landed = time.monotonic()
        if landed - self._visible_since > self.visibility_timeout:
            log.warning(
                "heartbeat late: the message was visible, another worker may process the file too",
                extra={**context, "late_seconds": round(landed - self._visible_since - self.visibility_timeout, 3)},
            )
        self._visible_since = asked
        return True


def run_worker(
    queue: Queue,
    process: Callable[[str], ProcessResult],
    drain: bool = False,
    visibility_timeout: int = 300,
    stop_on_signals: bool = False,
    on_file: Callable[[ProcessResult, float], None] | None = None,
    files_in_flight: int = 1,
    wait_seconds: float = LONG_POLL_SECONDS,
) -> WorkerStats:
    """Run a worker of ``files_in_flight`` lanes (threads, each holding one message at a
    time; see ``FileGate``). With ``stop_on_signals``, SIGTERM finishes the files in hand
    (ECS), and Ctrl-C (SIGINT) does too while a file is in hand, saying so; a second Ctrl-C,
    or one while idle, stops at once, every message in hand released."""
    stop, abort = threading.Event(), threading.Event()
    gate = FileGate() if files_in_flight > 1 else None
    lanes = [
        Worker(
            queue,
            process,
            visibility_timeout=visibility_timeout,
            stop=stop,
            gate=gate,
            abort=abort,
            wait_seconds=wait_seconds,
        )
        for _ in range(files_in_flight)
    ]
    reporting = threading.Lock()

    def report(result: ProcessResult, seconds: float) -> None:
        assert on_file is not None
        with reporting:  # metrics and progress are not thread-safe
            on_file(result, seconds)

    for lane in lanes:
        lane.on_file = report if on_file else None
    if stop_on_signals:
        signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())
        signal.signal(signal.SIGINT, _interrupt_handler(lambda: any(lane.busy for lane in lanes), stop))
    stats = WorkerStats()
    if len(lanes) == 1:
        stats.add(lanes[0].run(drain=drain))
    else:
        stats = _run_lanes(lanes, drain, abort)
    log.info("worker stopped", extra=stats.summary())
    return stats


def _run_lanes(lanes: list[Worker], drain: bool, abort: threading.Event) -> WorkerStats:
    threads = [
        threading.Thread(target=lane.run, kwargs={"drain": drain}, name=f"lane-{i}", daemon=True)
        for i, lane in enumerate(lanes)
    ]
    interrupted = False
    try:
        for thread in threads:
            thread.start()  # a lane may be busy before the last starts: a Ctrl-C lands here too
        while any(thread.is_alive() for thread in threads):
            for thread in threads:
                thread.join(timeout=0.1)
    except KeyboardInterrupt:
        # Stop now: the messages in hand are given back from here, not left to the lanes
        # (a lane busy with a file may take a while to look up); an idle lane in a long poll
        # is not waited for, and a message it receives from now on is given back at once.
        interrupted = True
        abort.set()
        lanes[0].stop.set()
        for lane in lanes:
            lane.release_in_hand()
    stats = WorkerStats(interrupted=interrupted)
    for lane in lanes:
        stats.add(lane.stats)
    return stats


def _interrupt_handler(busy: Callable[[], bool], stop: threading.Event) -> Callable[[int, object], None]:
    def on_interrupt(signum: int, frame: object) -> None:
        if busy() and not stop.is_set():
            stop.set()
            print("\nfinishing the files in hand; Ctrl-C again to stop now", file=sys.stderr, flush=True)
            return
        raise KeyboardInterrupt

    return on_interrupt
