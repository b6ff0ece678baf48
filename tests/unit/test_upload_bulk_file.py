"""UploadBulkFile: every upload is a new raw object, whatever its name."""

from __future__ import annotations

import io

import orjson
import pytest

from application.intake.submit_record import SubmitRecord
from application.intake.upload_bulk_file import UploadBulkFile
from application.processing.process_raw_file import ProcessRawFile
from domain.dealer_access import OPERATOR
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


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b'[{"a": 1}]', "application/json"),
        (b'\xef\xbb\xbf  [\n{"a": 1}\n]', "application/json"),
        (b'{"a": 1}\n{"a": 2}\n', "application/x-ndjson"),
        (b'{"a": 1}', "application/x-ndjson"),
        (b'{\n  "a": 1\n}\n', "application/json"),  # one pretty-printed object
    ],
)
def test_uploads_are_stored_with_their_content_type(raw, clock, body, content_type) -> None:
    receipt = UploadBulkFile(raw, clock)(io.BytesIO(body), "export")
    assert raw.head(receipt.file_key).content_type == content_type
    assert raw.objects[receipt.file_key] == body


def test_submissions_are_stored_as_json(raw, clock) -> None:
    receipt = SubmitRecord(raw, clock)(orjson.dumps([a_record()]), OPERATOR)
    assert raw.head(receipt.file_key).content_type == "application/json"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "the file is empty: it holds no records. Nothing was uploaded"),
        (b"\xef\xbb\xbf \r\n\t", "the file is empty: it holds no records. Nothing was uploaded"),
        (b"\x89PNG\r\n", "not a JSON array or JSON Lines file: it starts with b'\\x89PNG\\r\\n'; send a JSON array"),
        (b"nonsense", "not a JSON array or JSON Lines file: it starts with b'nonsense'"),
    ],
)
def test_what_can_hold_no_records_is_refused_and_nothing_stored(raw, clock, body, reason) -> None:
    from application.intake.upload_bulk_file import UploadRefused

    with pytest.raises(UploadRefused) as refused:
        UploadBulkFile(raw, clock)(io.BytesIO(body), "export")
    assert str(refused.value).startswith(reason) and raw.objects == {}


def test_an_uploads_receipt_is_noted_for_the_submission_status(raw, cleaned, errors, clock) -> None:
    from application.intake.submission_status import SubmissionStatus

    receipt = UploadBulkFile(raw, clock)(io.BytesIO(jsonl(4, "A")), "export.jsonl")
    status = SubmissionStatus(raw, cleaned, errors)
    received = status(receipt.submission_id, OPERATOR)
    assert received is not None and (received.status, received.record_count) == ("received", None)
    ProcessRawFile(raw, cleaned, errors, clock)(receipt.file_key)
    processed = status(receipt.submission_id, OPERATOR)
    assert processed is not None and (processed.status, processed.record_count, processed.valid_rows) == (
        "processed",
        4,
        4,
    )
