"""UploadBulkFile: every upload is a new raw object, whatever its name."""

from __future__ import annotations

import io

import orjson

from application.process_raw_file import ProcessRawFile
from application.upload_bulk_file import UploadBulkFile
from tests.factories import a_record


def jsonl(count: int, prefix: str) -> bytes:
    return b"".join(orjson.dumps(a_record(f"{prefix}-{i}")) + b"\n" for i in range(count))


def test_two_uploads_of_one_name_on_one_day_are_both_kept_and_processed(raw, cleaned, errors, clock) -> None:
    upload = UploadBulkFile(raw, clock)
    first = upload(io.BytesIO(jsonl(200, "A")), "export.json").file_key
    second = upload(io.BytesIO(jsonl(10, "B")), "export.json").file_key  # same name, same second
    assert first != second
    assert first.endswith("_export.json") and second.endswith("_export.json")  # the name stays readable
    assert raw.objects[first] == jsonl(200, "A") and raw.objects[second] == jsonl(10, "B")
    assert raw.metadata[first]["submission-id"] != raw.metadata[second]["submission-id"]
    process = ProcessRawFile(raw, cleaned, errors, clock)
    assert sum(process(key).valid_rows for key in (first, second)) == 210
