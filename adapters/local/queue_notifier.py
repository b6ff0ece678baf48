"""Tells the queue about new raw objects, the way S3 event notifications do: only those under
``service-records/``, the prefix the stack's notification filters on."""

from __future__ import annotations

from adapters.s3_events import object_created_event
from application.ports import Queue
from application.storage_keys import RAW_PREFIX


class QueueNotifier:
    def __init__(self, queue: Queue) -> None:
        self._queue = queue

    def __call__(self, bucket: str, key: str, size: int) -> None:
        if key.startswith(RAW_PREFIX):
            self._queue.send(object_created_event(bucket, key, size))
