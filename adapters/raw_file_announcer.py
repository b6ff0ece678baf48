"""Announces a raw file to the work queue with the event S3 itself sends (``replay``)."""

from __future__ import annotations

from adapters.s3_events import object_created_event
from application.ports import Queue


class RawFileAnnouncer:
    def __init__(self, queue: Queue, bucket: str) -> None:
        self._queue, self._bucket = queue, bucket

    def __call__(self, key: str, size: int) -> None:
        self._queue.send(object_created_event(self._bucket, key, size))
