"""Tells the queue about new raw objects, the way S3 event notifications do."""

from __future__ import annotations

from adapters.s3_events import object_created_event
from application.ports import Queue


class QueueNotifier:
    def __init__(self, queue: Queue) -> None:
        self._queue = queue

    def __call__(self, bucket: str, key: str, size: int) -> None:
        self._queue.send(object_created_event(bucket, key, size))
