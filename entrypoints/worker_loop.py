"""The queue worker: S3 event messages in, ProcessRawFile per object, delete when done.

Shared by ``servicepipe worker`` and the Fargate worker. A message is deleted only after
every object it names has all its outputs written. A permanent failure (an unreadable
file) is written to the error store by the use-case and counts as done; anything else
leaves the message for another try, so that it ends in the dead-letter queue.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import unquote_plus

from application.errors import ObjectNotFound
from application.ports import Message, Queue
from application.process_raw_file import ProcessResult

log = logging.getLogger(__name__)

LONG_POLL_SECONDS = 20
MAX_MESSAGES = 10


class NotAnS3Event(ValueError):
    pass


def object_keys(body: str) -> list[str] | None:
    """Raw object keys named by an S3 event body; None for S3's test event.

    Raises ``NotAnS3Event`` for anything else.
    """
    try:
        event = json.loads(body)
    except json.JSONDecodeError as err:
        raise NotAnS3Event(f"message body is not JSON: {err}") from err
    if isinstance(event, dict) and event.get("Event") == "s3:TestEvent":
        return None
    records = event.get("Records") if isinstance(event, dict) else None
    if not isinstance(records, list) or not records:
        raise NotAnS3Event("message body has no S3 'Records'")
    try:
        return [unquote_plus(r["s3"]["object"]["key"]) for r in records]
    except (KeyError, TypeError) as err:
        raise NotAnS3Event(f"S3 record without s3.object.key: {err}") from err


@dataclass
class WorkerStats:
    messages: int = 0
    files_processed: int = 0
    files_unreadable: int = 0
    failures: int = 0
    results: list[ProcessResult] = field(default_factory=list)


def handle_message(message: Message, queue: Queue, process: Callable[[str], ProcessResult], stats: WorkerStats) -> bool:
    """Process every object a message names; True when the message was deleted."""
    stats.messages += 1
    try:
        keys = object_keys(message.body)
    except NotAnS3Event as err:
        # Left undeleted on purpose: after maxReceiveCount it lands in the DLQ for a person.
        log.error("message is not an S3 event", extra={"message_id": message.message_id, "error": str(err)})
        stats.failures += 1
        return False
    if keys is None:
        queue.delete(message.receipt_handle)
        return True
    for key in keys:
        try:
            result = process(key)
        except ObjectNotFound:
            log.warning("raw object no longer exists; nothing to process", extra={"raw_key": key})
            continue
        except Exception:
            log.exception(
                "processing failed; the message will be retried",
                extra={"raw_key": key, "receive_count": message.receive_count},
            )
            stats.failures += 1
            return False
        stats.results.append(result)
        if result.status == "unreadable":
            stats.files_unreadable += 1
        else:
            stats.files_processed += 1
    queue.delete(message.receipt_handle)
    return True


def run_worker(
    queue: Queue,
    process: Callable[[str], ProcessResult],
    drain: bool = False,
    stop: threading.Event | None = None,
    wait_seconds: float = LONG_POLL_SECONDS,
) -> WorkerStats:
    """Receive and handle messages until ``stop`` is set, or, with ``drain``, the queue is empty."""
    stop = stop or threading.Event()
    stats = WorkerStats()
    while not stop.is_set():
        messages = queue.receive(MAX_MESSAGES, 0 if drain else wait_seconds)
        if not messages:
            if drain:
                break
            continue
        for message in messages:
            if stop.is_set():
                queue.change_visibility(message.receipt_handle, 0)
                continue
            handle_message(message, queue, process, stats)
    return stats
