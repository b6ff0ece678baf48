"""UploadBulkFile: drop a bulk file into the raw store as it is (the S3 direct-upload path).

Like SubmitRecord, it refuses at once what can hold no records (an empty file, text that is
not a JSON array or JSON Lines), storing nothing, and notes the upload so that its receipt's
``submission_id`` can be looked up (``SubmissionStatus``)."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import BinaryIO

import orjson

from application.ports import Clock, ObjectStore
from application.raw_formats import BYTE_ORDER_MARK, JSON, SNIFF_BYTES, UNKNOWN, content_type_of
from application.storage_keys import (
    META_INGESTED_AT,
    META_SUBMISSION_ID,
    META_SUBMITTED_BY,
    submission_record_key,
    upload_key,
)
from domain.dealer_access import OPERATOR, Caller


class UploadRefused(ValueError):
    """A file that can hold no records: nothing was stored."""


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

    def __call__(self, source: BinaryIO, file_name: str, caller: Caller = OPERATOR) -> UploadReceipt:
        """Store ``source`` as a new raw object (never replacing one), named for the upload.
        Raises ``UploadRefused``, storing nothing, for a file that can hold no records."""
        head = source.read(SNIFF_BYTES)
        text = head.removeprefix(BYTE_ORDER_MARK).lstrip()
        if not text:
            raise UploadRefused("the file is empty: it holds no records. Nothing was uploaded")
        kind = content_type_of(head)
        if kind == UNKNOWN:
            raise UploadRefused(
                f"not a JSON array or JSON Lines file: it starts with {text[:16]!r}; send a JSON array of "
                "records or one JSON object per line. Nothing was uploaded"
            )
        now = self._clock.now()
        upload_id = self._new_id()
        key = upload_key(now, upload_id, file_name)
        metadata = {META_INGESTED_AT: now.isoformat(), META_SUBMISSION_ID: upload_id, META_SUBMITTED_BY: caller.name}
        # Noted first, as SubmitRecord does; how many records it holds is known once processed.
        note = {
            "submission_id": upload_id,
            "raw_key": key,
            "submitted_by": caller.name,
            "received_at": now.isoformat(),
            "record_count": None,
        }
        self._raw.put_bytes(submission_record_key(upload_id), orjson.dumps(note), content_type=JSON)
        with self._raw.open_write(key, metadata, kind) as sink:
            sink.write(head)
            shutil.copyfileobj(source, sink, 1 << 20)
        return UploadReceipt("uploaded", upload_id, key)
