"""ProcessRawFile on in-memory stores: outputs, rejections, and that no row is ever lost."""

from __future__ import annotations

import io

import orjson
import pyarrow.parquet as pq
import pytest

from application.processing.process_raw_file import ProcessRawFile
from domain.star_schema import TABLES
from tests.factories import NOW, a_record

KEY = "service-records/date=2026-11-25/12-00-00_sub-1.json"
NAME = "12-00-00_sub-1.json"


@pytest.fixture
def process(raw, cleaned, errors, clock) -> ProcessRawFile:
    return ProcessRawFile(raw, cleaned, errors, clock)


def parquet(store, table: str, name: str = NAME, date: str = "2026-11-25"):
    return pq.read_table(io.BytesIO(store.objects[f"parquet/{table}/date={date}/{name}.parquet"]))


def jsonl(store, key: str) -> list[dict]:
    return [orjson.loads(line) for line in store.objects[key].splitlines()]


def assert_nothing_lost(cleaned, errors, total: int, name: str = NAME) -> None:
    """Every input row is in the cleaned outputs or in the error store, exactly once."""
    valid = [r["record_index"] for r in jsonl(cleaned, f"dynamodb/date=2026-11-25/{name}.jsonl")]
    rejected_key = f"rejected/date=2026-11-25/{name}.jsonl"
    rejected = [r["index"] for r in jsonl(errors, rejected_key)] if rejected_key in errors.objects else []
    assert sorted(valid + rejected) == list(range(total))
    assert parquet(cleaned, "fact_service_records", name).column("record_index").to_pylist() == valid


def test_valid_rows_become_six_tables_and_cleaned_jsonl(raw, cleaned, errors, process) -> None:
    records = [
        a_record("SR-1"),
        a_record("SR-2", {"dealer.dealer_location": "Makassar", "service_details.service_date": "2026-11-20T10:30:00"}),
    ]
    raw.put_bytes(KEY, orjson.dumps(records), {"submission-id": "sub-1", "ingested-at": "2026-11-25T12:00:00+00:00"})
    result = process(KEY)
    assert (result.status, result.valid_rows, result.rejected_rows) == ("processed", 2, 0)
    for table in TABLES:
        assert f"parquet/{table}/date=2026-11-25/{NAME}.parquet" in cleaned.objects
    fact = parquet(cleaned, "fact_service_records").to_pylist()
    assert [f["service_datetime_utc"].isoformat() for f in fact] == ["2026-11-20T03:30:00+00:00"] * 2
    assert [f["service_datetime_wib"].isoformat() for f in fact] == ["2026-11-20T10:30:00"] * 2  # WIB wall clock
    assert [(f["local_timezone"], f["service_datetime_local"].isoformat()) for f in fact] == [
        ("WIB", "2026-11-20T10:30:00"),
        ("WITA", "2026-11-20T11:30:00"),
    ]
    assert {f["source_file"] for f in fact} == {KEY} and {f["submission_id"] for f in fact} == {"sub-1"}
    assert parquet(cleaned, "dim_parts_used").num_rows == 4
    assert parquet(cleaned, "dim_dealer").num_rows == 1  # one dealer, deduplicated
    cleaned_rows = jsonl(cleaned, f"dynamodb/date=2026-11-25/{NAME}.jsonl")
    assert cleaned_rows[0]["vin"] == "MHFXX12G3K1234567"
    assert cleaned_rows[0]["service_date"] == "2026-11-20T03:30:00Z"
    assert cleaned_rows[0]["ingested_at"] == "2026-11-25T12:00:00.000000Z"
    assert cleaned_rows[1]["dealer"]["timezone"] == "WITA"
    assert [p["part_name"] for p in cleaned_rows[0]["service_details"]["parts_used"]] == ["Oli mesin", "Filter oli"]
    assert KEY not in errors.objects and errors.objects == {}


def test_invalid_rows_go_to_the_error_store_with_every_reason(raw, cleaned, errors, process) -> None:
    records = [
        a_record("SR-1"),
        a_record("SR-2", {"vehicle.vin": "BAD", "vehicle.odometer_reading": -1}),
        a_record("SR-3", {"service_details.service_date": "soon"}),
    ]
    raw.put_bytes(KEY, orjson.dumps(records))
    result = process(KEY)
    assert (result.valid_rows, result.rejected_rows) == (1, 2)
    assert result.rejected_by_rule == {"odometer_range": 1, "service_date_format": 1, "vin_format": 1}
    rejected = jsonl(errors, f"rejected/date=2026-11-25/{NAME}.jsonl")
    assert [(r["index"], r["service_record_id"]) for r in rejected] == [(1, "SR-2"), (2, "SR-3")]
    assert {(e["field"], e["rule"], e["value"]) for e in rejected[0]["errors"]} == {
        ("vehicle.vin", "vin_format", "BAD"),
        ("vehicle.odometer_reading", "odometer_range", -1),
    }
    assert rejected[0]["record"] == records[1]
    assert_nothing_lost(cleaned, errors, 3)


def test_a_file_whose_every_row_is_invalid(raw, cleaned, errors, process) -> None:
    records = [a_record(f"SR-{i}", {"vehicle.vin": "X"}) for i in range(5)]
    raw.put_bytes(KEY, orjson.dumps(records))
    result = process(KEY)
    assert (result.status, result.valid_rows, result.rejected_rows) == ("processed", 0, 5)
    assert parquet(cleaned, "fact_service_records").num_rows == 0
    assert_nothing_lost(cleaned, errors, 5)


def test_duplicate_ids_keep_the_last_and_reject_the_rest(raw, cleaned, errors, process) -> None:
    records = [a_record("SR-1"), a_record("SR-1", {"vehicle.odometer_reading": 9}), a_record("SR-2")]
    raw.put_bytes(KEY, orjson.dumps(records))
    process(KEY)
    rejected = jsonl(errors, f"rejected/date=2026-11-25/{NAME}.jsonl")
    assert [(r["index"], r["errors"][0]["rule"]) for r in rejected] == [(0, "duplicate_id")]
    kept = jsonl(cleaned, f"dynamodb/date=2026-11-25/{NAME}.jsonl")
    assert [(r["service_record_id"], r["vehicle"]["odometer_reading"]) for r in kept] == [("SR-1", 9), ("SR-2", 45_000)]
    assert_nothing_lost(cleaned, errors, 3)


def test_processing_twice_overwrites_instead_of_duplicating(raw, cleaned, errors, process) -> None:
    raw.put_bytes(KEY, orjson.dumps([a_record("SR-1"), a_record("SR-2", {"vehicle.vin": "X"})]))
    process(KEY)
    first = dict(cleaned.objects), dict(errors.objects)
    process(KEY)
    assert set(cleaned.objects) == set(first[0]) and set(errors.objects) == set(first[1])
    assert (
        cleaned.objects[f"dynamodb/date=2026-11-25/{NAME}.jsonl"] == first[0][f"dynamodb/date=2026-11-25/{NAME}.jsonl"]
    )
    assert_nothing_lost(cleaned, errors, 2)


def test_the_raw_object_is_never_changed(raw, process) -> None:
    body = orjson.dumps([a_record("SR-1"), a_record("SR-2", {"vehicle.vin": "X"})])
    raw.put_bytes(KEY, body)
    process(KEY)
    assert raw.objects == {KEY: body}


@pytest.mark.parametrize("body", [b"\x89PNG\r\n\x1a\n\x00binary", b"", b"[]", b"12"])
def test_unreadable_files_are_copied_to_the_error_store_with_a_reason(raw, cleaned, errors, process, body) -> None:
    key = "service-records/date=2026-11-25/upload.bin"
    raw.put_bytes(key, body)
    result = process(key)
    assert result.status == "unreadable" and result.reason
    assert errors.objects["unreadable/date=2026-11-25/upload.bin"] == body
    reason = orjson.loads(errors.objects["unreadable/date=2026-11-25/upload.bin.reason.json"])
    assert reason["raw_key"] == key and reason["reason"] == result.reason
    assert list(cleaned.objects) == ["manifests/date=2026-11-25/upload.bin.json"]
    assert raw.objects[key] == body


def test_json_lines_bulk_files_outside_the_date_layout(raw, cleaned, errors, process) -> None:
    key = "imports/dealer 7/batch#1.jsonl"
    raw.put_bytes(key, b"\n".join(orjson.dumps(a_record(f"SR-{i}")) for i in range(3)) + b"\nnot json\n")
    result = process(key)
    assert (result.valid_rows, result.rejected_rows) == (3, 1)
    name = next(k for k in cleaned.objects if k.startswith("dynamodb/")).rsplit("/", 1)[-1].removesuffix(".jsonl")
    assert name.startswith("imports__dealer_7__batch_1.jsonl-")  # sanitised, with a hash of the original key
    # the object's "last modified" time (the fake store's NOW) dates a key without a date partition
    assert parquet(cleaned, "fact_service_records", name, date=f"{NOW:%Y-%m-%d}").num_rows == 3
    assert_nothing_lost(cleaned, errors, 4, name)


def test_the_manifest_records_the_outcome(raw, cleaned, process) -> None:
    raw.put_bytes(KEY, orjson.dumps([a_record("SR-1"), a_record("SR-2", {"vehicle.vin": "X"})]))
    process(KEY)
    manifest = orjson.loads(cleaned.objects[f"manifests/date=2026-11-25/{NAME}.json"])
    assert manifest["status"] == "processed"
    assert (manifest["total_rows"], manifest["valid_rows"], manifest["rejected_rows"]) == (2, 1, 1)
    assert manifest["processed_at"] == "2026-11-25T12:00:00Z"


def test_rejected_rows_name_list_fields_one_way(raw, cleaned, errors, process) -> None:
    records = [
        a_record("SR-1", {"service_details.parts_used.0.quantity": "two"}),  # judged by the contract
        a_record("SR-2", {"service_details.parts_used.0.quantity": 0}),  # judged by the business rules
    ]
    raw.put_bytes(KEY, orjson.dumps(records))
    process(KEY)
    fields = {
        row["index"]: {e["field"] for e in row["errors"]}
        for row in jsonl(errors, f"rejected/date=2026-11-25/{NAME}.jsonl")
    }
    assert fields == {0: {"service_details.parts_used[0].quantity"}, 1: {"service_details.parts_used[0].quantity"}}


def test_dim_dealer_keeps_the_original_column_name(raw, cleaned, process) -> None:
    raw.put_bytes(KEY, orjson.dumps([a_record("SR-1")]))
    process(KEY)
    dealers = parquet(cleaned, "dim_dealer").to_pylist()
    assert dealers[0]["dealer_location"] == "Jakarta" and "dealer_city" not in dealers[0]


def test_reprocessing_after_a_rule_change_leaves_no_stale_output(raw, cleaned, errors) -> None:
    """A replay after a fix: a row rejected the first time and valid now is in the cleaned
    data only. The earlier run's rejected file must go, or the row would be in both."""
    from datetime import timedelta

    from adapters.local.in_memory import FixedClock

    records = [a_record("SR-1"), a_record("SR-2", {"service_details.service_date": "2026-11-28T09:00:00"})]
    raw.put_bytes(KEY, orjson.dumps(records), {"submission-id": "sub-1", "ingested-at": "2026-11-25T12:00:00+00:00"})
    first = ProcessRawFile(raw, cleaned, errors, FixedClock(NOW))(KEY)  # SR-2 is in the future
    assert (first.valid_rows, first.rejected_rows) == (1, 1)
    assert f"rejected/date=2026-11-25/{NAME}.jsonl" in errors.objects
    again = ProcessRawFile(raw, cleaned, errors, FixedClock(NOW + timedelta(days=5)))(KEY)
    assert (again.valid_rows, again.rejected_rows) == (2, 0)
    assert errors.objects == {}
    assert_nothing_lost(cleaned, errors, total=2)
    manifest = orjson.loads(cleaned.objects[f"manifests/date=2026-11-25/{NAME}.json"])
    assert sorted(manifest["outputs"]) == sorted(again.outputs)


def test_a_rejected_row_names_its_ids_as_a_valid_row_would_and_keeps_the_record_as_sent(
    raw, cleaned, errors, process
) -> None:
    """So that rejected rows join valid ones: " DLR-X " is dealer DLR-X, 12345 is "12345"."""
    bad_vin = {"vehicle.vin": "BAD"}
    records = [
        a_record(" SR-9 ", {**bad_vin, "dealer.dealer_id": " DLR-X "}),
        a_record(12345, {**bad_vin, "dealer.dealer_id": 678}),
        a_record("   ", {**bad_vin, "dealer.dealer_id": True}),
    ]
    raw.put_bytes(KEY, orjson.dumps(records), {"submission-id": "sub-1", "ingested-at": "2026-11-25T12:00:00+00:00"})
    process(KEY)
    rows = jsonl(errors, f"rejected/date=2026-11-25/{NAME}.jsonl")
    assert [(r["dealer_id"], r["service_record_id"]) for r in rows] == [
        ("DLR-X", "SR-9"),
        ("678", "12345"),
        (None, None),
    ]
    assert [(r["record"]["dealer"]["dealer_id"], r["record"]["service_record_id"]) for r in rows] == [
        (" DLR-X ", " SR-9 "),
        (678, 12345),
        (True, "   "),
    ]
