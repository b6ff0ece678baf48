"""UploadBulkFile: drop a bulk file into the raw store as it is (the S3 direct-upload path)."""

from __future__ import annotations

import shutil
from typing import BinaryIO

from application.ports import Clock, ObjectStore
from application.storage_keys import META_INGESTED_AT, META_SUBMISSION_ID, upload_key


class UploadBulkFile:
    def __init__(self, raw: ObjectStore, clock: Clock) -> None:
        self._raw, self._clock = raw, clock

    def __call__(self, source: BinaryIO, file_name: str) -> str:
        """Store ``source`` under today's partition with its (sanitised) name; returns the key."""
        now = self._clock.now()
        key = upload_key(now, file_name)
        metadata = {META_INGESTED_AT: now.isoformat(), META_SUBMISSION_ID: key.rsplit("/", 1)[-1]}
        with self._raw.open_write(key, metadata) as sink:
            shutil.copyfileobj(source, sink, 1 << 20)
        return key
