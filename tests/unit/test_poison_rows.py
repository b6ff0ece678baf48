"""One bad row costs that row, never its file: values pyarrow or pandas can meet are
rejected at row level with a named rule, and every other row goes on."""

from __future__ import annotations

import io

import orjson
import pytest

from application.intake.submit_record import SubmitRecord
from application.loading.load_batch import LoadBatch
from application.processing.process_raw_file import ProcessRawFile
from application.processing.raw_reader import MAX_BATCH_ROWS, read_batches
from domain.dealer_access import OPERATOR
from domain.limits import MAX_LINE_BYTES
from tests.factories import a_record

KEY = "service-records/date=2026-11-25/12-00-00_u_export.jsonl"
NAME = "12-00-00_u_export.jsonl"


def good_lines(count: int, prefix: str = "SR") -> list[bytes]:
    return [orjson.dumps(a_record(f"{prefix}-{i}")) for i in range(count)]


def rejected_rows(errors) -> dict[int, dict]:
    body = errors.objects.get(f"rejected/date=2026-11-25/{NAME}.jsonl", b"")
    return {row["index"]: row for row in map(orjson.loads, body.splitlines())}


def cleaned_rows(cleaned) -> list[dict]:
    body = cleaned.objects[f"dynamodb/date=2026-11-25/{NAME}.jsonl"]
    body.decode("utf-8")  # nothing undecodable reaches the cleaned outputs
    return [orjson.loads(line) for line in body.splitlines()]


def process(raw, cleaned, errors, clock, lines: list[bytes], **options):
    raw.put_bytes(KEY, b"\n".join(lines) + b"\n")
    return ProcessRawFile(raw, cleaned, errors, clock, **options)(KEY)


@pytest.mark.parametrize(
    ("poison", "rule"),
    [
        (b'"total_cost":NaN', "non_finite_number"),
        (b'"total_cost":-Infinity', "non_finite_number"),
        (b'"total_cost":Infinity', "non_finite_number"),
        (b'"total_cost":1e400', "non_finite_number"),
        (b'"total_cost":1e13', "cost_too_large"),
    ],
)
def test_a_poison_number_in_a_10000_line_file_costs_one_row(raw, cleaned, errors, clock, poison, rule) -> None:
    lines = good_lines(10_000)
    lines[4_321] = lines[4_321].replace(b'"total_cost":650000', poison)
    result = process(raw, cleaned, errors, clock, lines)
    assert (result.valid_rows, result.rejected_rows) == (9_999, 1)
    (row,) = rejected_rows(errors).values()
    assert row["index"] == 4_321 and rule in {e["rule"] for e in row["errors"]}
    assert [r["record_index"] for r in cleaned_rows(cleaned)] == [i for i in range(10_000) if i != 4_321]


def test_a_huge_quantity_through_the_api_is_a_rejected_row_not_a_crash(raw, cleaned, errors, clock) -> None:
    body = orjson.dumps([a_record("SR-1"), a_record("SR-2", {"service_details.parts_used.0.quantity": 10**16})])
    receipt = SubmitRecord(raw, clock)(body, OPERATOR)
    result = ProcessRawFile(raw, cleaned, errors, clock)(receipt.file_key)
    assert (result.valid_rows, result.rejected_rows, result.rejected_by_rule) == (1, 1, {"quantity_too_large": 1})


def test_invalid_utf8_is_rejected_and_the_file_still_loads(raw, cleaned, errors, clock, repository) -> None:
    lines = good_lines(10_000)
    lines[5_000] = lines[5_000].replace(b"Budi Santoso", b"Budi \xff Santoso")
    lines[7_000] = lines[7_000].replace(b"Jakarta", b"Jak\xc3rta")
    result = process(raw, cleaned, errors, clock, lines)
    assert (result.valid_rows, result.rejected_rows, result.rejected_by_rule) == (9_998, 2, {"invalid_utf8": 2})
    rows = rejected_rows(errors)
    assert sorted(rows) == [5_000, 7_000] and "\ufffd" in rows[5_000]["record"]  # shown with a replacement mark
    report = LoadBatch(cleaned, repository, clock)()
    assert report.ok and repository.count() == 9_998


def test_escaped_control_characters_are_rejected(raw, cleaned, errors, clock) -> None:
    lines = good_lines(3)
    lines[1] = lines[1].replace(b"Budi Santoso", b"Budi\\u0000Santoso")
    lines[2] = lines[2].replace(b"Ganti oli", b"Ganti\\u001boli")
    result = process(raw, cleaned, errors, clock, lines)
    assert (result.valid_rows, result.rejected_by_rule) == (1, {"control_character": 2})
    fields = {i: {e["field"] for e in row["errors"]} for i, row in rejected_rows(errors).items()}
    assert fields == {1: {"customer.customer_name"}, 2: {"service_details.services_performed[0].service_name"}}


def test_a_line_too_long_to_hold_is_skipped_unread(raw, cleaned, errors, clock) -> None:
    huge = orjson.dumps(a_record("SR-HUGE", {"customer.customer_name": "x" * (MAX_LINE_BYTES + 10)}))
    lines = [*good_lines(2), huge, *good_lines(2, "AFTER")]
    result = process(raw, cleaned, errors, clock, lines, chunk_bytes=64 * 1024)  # far longer than a chunk
    assert (result.valid_rows, result.rejected_by_rule) == (4, {"record_too_large": 1})
    row = rejected_rows(errors)[2]
    assert len(row["record"]) < 2_000  # a preview, not the megabyte
    assert [r["service_record_id"] for r in cleaned_rows(cleaned)] == ["SR-0", "SR-1", "AFTER-0", "AFTER-1"]


def test_a_record_over_the_size_limit_is_rejected(raw, cleaned, errors, clock) -> None:
    big = orjson.dumps(a_record("SR-BIG", {"customer.customer_name": "x" * 200_000}))
    result = process(raw, cleaned, errors, clock, [*good_lines(2), big])
    assert (result.valid_rows, result.rejected_by_rule) == (2, {"record_too_large": 1})


def test_millions_of_empty_objects_come_in_bounded_batches() -> None:
    body = b"[" + b",".join([b"{}"] * (2 * MAX_BATCH_ROWS + 5)) + b"]"
    sizes = [batch.table.num_rows + len(batch.rejected) for batch in read_batches(io.BytesIO(body))]
    assert max(sizes) <= MAX_BATCH_ROWS and sum(sizes) == 2 * MAX_BATCH_ROWS + 5


def test_empty_objects_are_each_rejected_with_their_reason(raw, cleaned, errors, clock) -> None:
    raw.put_bytes(KEY, b"[" + b",".join([b"{}"] * 3_000) + b"]")
    result = ProcessRawFile(raw, cleaned, errors, clock, chunk_bytes=1024)(KEY)
    assert (result.valid_rows, result.rejected_rows) == (0, 3_000)
    assert sorted(rejected_rows(errors)) == list(range(3_000))
