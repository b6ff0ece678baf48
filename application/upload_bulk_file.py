"""UploadBulkFile: drop a bulk file into the raw store as it is (the S3 direct-upload path)."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import BinaryIO

from application.ports import Clock, ObjectStore
from application.raw_formats import SNIFF_BYTES, content_type_of
from application.storage_keys import META_INGESTED_AT, META_SUBMISSION_ID, upload_key


@dataclass(frozen=True)
class UploadReceipt:
    status: str
    submission_id: str
    file_key: str

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


class UploadBulkFile:
    def __init__(self, raw: ObjectStore, clock: Clock, new_id: Callable[[], str] = lambda: str(uuid.uuid4())) -> None:
        self._raw, self._clock, self._new_id = raw, clock, new_id

    def __call__(self, source: BinaryIO, file_name: str) -> UploadReceipt:
        """Store ``source`` as a new raw object (never replacing one), named for the upload."""
        now = self._clock.now()
        upload_id = self._new_id()
        key = upload_key(now, upload_id, file_name)
        metadata = {META_INGESTED_AT: now.isoformat(), META_SUBMISSION_ID: upload_id}
        head = source.read(SNIFF_BYTES)
        with self._raw.open_write(key, metadata, content_type_of(head)) as sink:
            sink.write(head)
            shutil.copyfileobj(source, sink, 1 << 20)
        return UploadReceipt("uploaded", upload_id, key)
