"""Reconcile on in-memory stores: a clean date is ok; each way a row can be lost or doubled
is named, row by row."""

from __future__ import annotations

import orjson
import pytest

from adapters.local.in_memory import FixedClock, InMemoryTableCatalog
from application.analytics.publish_tables import PublishTables
from application.loading.load_batch import LoadBatch
from application.operations.reconcile import Reconcile
from application.processing.process_raw_file import ProcessRawFile
from domain.record_identity import RecordKey
from tests.factories import NOW, a_record

DATE = "2026-11-25"
KEY_A = f"service-records/date={DATE}/10-00-00_a.json"
KEY_B = f"service-records/date={DATE}/11-00-00_b.json"
META = {"ingested-at": "2026-11-25T10:00:00+00:00", "submission-id": "a"}


@pytest.fixture
def pipeline(raw, cleaned, errors, repository, clock):
    """Two raw files (one with a rejected row), processed and loaded."""
    bad = a_record("SR-3", {"vehicle.vin": "short"})
    raw.put_bytes(KEY_A, orjson.dumps([a_record("SR-1"), a_record("SR-2"), bad]), META)
    raw.put_bytes(KEY_B, orjson.dumps([a_record("SR-4")]), META)
    process = ProcessRawFile(raw, cleaned, errors, clock)
    for key in (KEY_A, KEY_B):
        process(key)
    LoadBatch(cleaned, repository, clock)()
    return Reconcile(raw, cleaned, errors, repository, InMemoryTableCatalog())


def problems(report) -> list[tuple[str, int | None, str]]:
    return [(p.raw_key, p.record_index, p.problem) for p in report.problems]


def test_a_processed_and_loaded_date_is_ok(pipeline) -> None:
    report = pipeline(DATE)
    assert report.ok, report.problems
    assert (report.raw_files, report.raw_rows, report.cleaned_rows, report.rejected_rows) == (2, 4, 3, 1)
    assert (report.loaded_rows, report.awaiting_load_rows) == (3, 0)


def test_a_row_in_no_store_is_named(pipeline, errors) -> None:
    errors.delete(f"rejected/date={DATE}/10-00-00_a.json.jsonl")
    assert problems(pipeline(DATE)) == [(KEY_A, 2, "in none: neither cleaned nor rejected")]


def test_a_row_in_two_stores_is_named(pipeline, errors) -> None:
    key = f"rejected/date={DATE}/10-00-00_a.json.jsonl"
    errors.put_bytes(key, errors.read_bytes(key) + orjson.dumps({"index": 0, "record": {}}) + b"\n")
    assert problems(pipeline(DATE)) == [(KEY_A, 0, "in two: cleaned x1 and rejected x1")]


def test_a_loaded_row_missing_from_the_table_is_named(pipeline, repository) -> None:
    del repository.records[RecordKey("DLR-JKT-001", "SR-4")]
    report = pipeline(DATE)
    found = [(p.raw_key, p.record_index, p.dealer_id, p.service_record_id) for p in report.problems]
    assert found == [(KEY_B, 0, "DLR-JKT-001", "SR-4")]
    assert report.problems[0].problem == "not in the table, though loaded"


def test_a_newer_correction_in_the_table_is_not_a_problem(pipeline, repository) -> None:
    repository.records[RecordKey("DLR-JKT-001", "SR-1")]["ingested_at"] = "2027-01-01T00:00:00.000000Z"
    assert pipeline(DATE).ok


def test_an_unprocessed_file_and_an_unloaded_file_are_told_apart(pipeline, raw, cleaned) -> None:
    key_c = f"service-records/date={DATE}/12-00-00_c.json"
    raw.put_bytes(key_c, orjson.dumps([a_record("SR-5"), a_record("SR-6")]), META)
    for key in [k for k in cleaned.objects if k.startswith("load-ledger/") and "11-00-00_b" in k]:
        cleaned.delete(key)
    report = pipeline(DATE)
    assert problems(report) == [(key_c, None, "in none: not processed yet (2 rows)")]
    assert (report.unprocessed_files, report.awaiting_load_rows, report.loaded_rows) == (1, 1, 2)


def test_an_unreadable_file_is_accounted_as_a_whole(raw, cleaned, errors, repository, clock) -> None:
    raw.put_bytes(KEY_A, b"this is not JSON", META)
    ProcessRawFile(raw, cleaned, errors, clock)(KEY_A)
    reconcile = Reconcile(raw, cleaned, errors, repository, InMemoryTableCatalog())
    assert reconcile(DATE).ok and reconcile(DATE).unreadable_files == 1
    errors.delete(f"unreadable/date={DATE}/10-00-00_a.json")
    assert problems(reconcile(DATE)) == [(KEY_A, None, "in none: unreadable, but not in the error store")]


def test_cleaned_json_lines_and_parquet_must_agree(pipeline, cleaned) -> None:
    key = f"dynamodb/date={DATE}/11-00-00_b.json.jsonl"
    cleaned.put_bytes(key, b"")
    assert (KEY_B, 0, "in none: neither cleaned nor rejected") in problems(pipeline(DATE))
    assert (KEY_B, 0, "cleaned JSON Lines and fact Parquet disagree") in problems(pipeline(DATE))


def test_rows_the_workers_reader_misses_are_caught_by_an_independent_count(pipeline, monkeypatch) -> None:
    """The raw rows are counted again by a JSON parser (ijson), not the worker's reader: a
    reader that lost a row, and the outputs that lost it with it, cannot pass unnoticed."""
    import application.operations.reconcile as reconcile

    real = reconcile.read_batches

    def losing_the_last_row(stream, *args):
        for batch in real(stream, *args):
            yield batch.__class__(batch.table.slice(0, batch.table.num_rows - 1), batch.originals, batch.rejected)

    monkeypatch.setattr(reconcile, "read_batches", losing_the_last_row)
    found = [(p.raw_key, p.record_index, p.problem) for p in pipeline(DATE).problems]
    assert (KEY_B, None, "the worker read 0 rows, a JSON parser counts 1") in found


def test_a_file_unreadable_to_the_worker_yet_valid_json_is_named(pipeline, monkeypatch) -> None:
    import application.operations.reconcile as reconcile

    monkeypatch.setattr(reconcile.Reconcile, "_raw_rows", lambda self, key: None)
    found = [(p.raw_key, p.problem) for p in pipeline(DATE).problems]
    assert (KEY_A, "unreadable to the worker, yet a JSON parser reads 3 rows in it") in found


NAME_A = "10-00-00_a.json"


@pytest.mark.parametrize(
    ("store", "key", "damage", "expected"),
    [
        (
            "cleaned",
            f"parquet/fact_service_records/date={DATE}/{NAME_A}.parquet",
            bytes(range(256)) * 4,
            f"its output parquet/fact_service_records/date={DATE}/{NAME_A}.parquet cannot be read (",
        ),
        (
            "cleaned",
            f"parquet/dim_dealer/date={DATE}/{NAME_A}.parquet",
            b"PAR1 not really",
            f"its output parquet/dim_dealer/date={DATE}/{NAME_A}.parquet cannot be read (",
        ),
        (
            "cleaned",
            f"parquet/dim_vehicle/date={DATE}/{NAME_A}.parquet",
            None,
            f"its output parquet/dim_vehicle/date={DATE}/{NAME_A}.parquet is missing: replay the raw file",
        ),
        (
            "cleaned",
            f"dynamodb/date={DATE}/{NAME_A}.jsonl",
            "garbage line",
            f"its output dynamodb/date={DATE}/{NAME_A}.jsonl cannot be read (",
        ),
        (
            "errors",
            f"rejected/date={DATE}/{NAME_A}.jsonl",
            "garbage line",
            f"its output rejected/date={DATE}/{NAME_A}.jsonl cannot be read (",
        ),
        (
            "cleaned",
            f"manifests/date={DATE}/{NAME_A}.json",
            "truncated",
            f"its manifest manifests/date={DATE}/{NAME_A}.json cannot be read (",
        ),
    ],
    ids=[
        "fact random bytes",
        "dimension corrupt",
        "dimension deleted",
        "cleaned garbage line",
        "rejected garbage",
        "manifest truncated",
    ],
)
def test_a_damaged_output_is_a_named_finding_not_a_traceback(pipeline, cleaned, errors, store, key, damage, expected):
    target = cleaned if store == "cleaned" else errors
    if damage is None:
        target.delete(key)
    elif damage == "garbage line":
        target.put_bytes(key, target.read_bytes(key) + b"{not json at all\n")
    elif damage == "truncated":
        target.put_bytes(key, target.read_bytes(key)[:40])
    else:
        target.put_bytes(key, damage)
    report = pipeline(DATE)
    assert not report.ok
    assert [(p.raw_key, p.record_index) for p in report.problems if p.problem.startswith(expected)] == [(KEY_A, None)]


def test_outputs_whose_raw_file_is_gone_are_named(pipeline, raw) -> None:
    raw.delete(KEY_A)
    report = pipeline(DATE)
    manifest = f"manifests/date={DATE}/{NAME_A}.json"
    assert (
        manifest,
        None,
        f"outputs ({manifest}) whose raw file is gone: restore it from a backup, or delete the outputs",
    ) in [(p.raw_key, p.record_index, p.problem) for p in report.problems]


def test_a_table_record_changed_in_place_is_named(pipeline, repository) -> None:
    """The same ingested_at but other values: the content hash tells it from what was loaded."""
    repository.records[RecordKey("DLR-JKT-001", "SR-2")]["vehicle"]["odometer_reading"] = 1
    found = [(p.raw_key, p.record_index, p.service_record_id, p.problem) for p in pipeline(DATE).problems]
    problem = "the table's record differs from its cleaned line, at the same ingested_at (changed in place?)"
    assert found == [(KEY_A, 1, "SR-2", problem)]


def test_rejected_rows_refusing_values_of_different_types_read_fine(raw, cleaned, errors, repository, clock) -> None:
    """A rejected row's refused value is a number in one row and text in the next: valid
    JSON Lines, not a damaged output (a reader inferring one type per column would say so)."""
    rows = [a_record("SR-1", {"vehicle.vin": "short"}), a_record("SR-2", {"vehicle.odometer_reading": -5})]
    raw.put_bytes(KEY_A, orjson.dumps(rows), META)
    ProcessRawFile(raw, cleaned, errors, clock)(KEY_A)
    LoadBatch(cleaned, repository, clock)()
    report = Reconcile(raw, cleaned, errors, repository, InMemoryTableCatalog())(DATE)
    assert report.ok, report.problems
    assert report.rejected_rows == 2


def _published(raw, cleaned, errors, repository) -> tuple[Reconcile, InMemoryTableCatalog]:
    catalog = InMemoryTableCatalog()
    assert PublishTables(cleaned, errors, catalog, FixedClock(NOW))().ok
    return Reconcile(raw, cleaned, errors, repository, catalog), catalog


def test_a_published_date_has_each_row_in_the_published_tables_once(pipeline, raw, cleaned, errors, repository):
    assert (pipeline(DATE).published_rows, pipeline(DATE).awaiting_publish_rows) == (0, 3)  # not published yet
    reconcile, catalog = _published(raw, cleaned, errors, repository)
    report = reconcile(DATE)
    assert report.ok and (report.published_rows, report.awaiting_publish_rows) == (3, 0)


def test_a_row_lost_or_doubled_in_the_published_tables_is_named(pipeline, raw, cleaned, errors, repository):
    import pyarrow as pa
    import pyarrow.compute as pc

    reconcile, catalog = _published(raw, cleaned, errors, repository)
    fact = catalog.tables["fact_service_records"]
    sr1 = pc.equal(fact.column("service_record_id"), "SR-1")
    lost = fact.filter(pc.invert(sr1))
    catalog.tables["fact_service_records"] = pa.concat_tables([lost, lost.slice(0, 1)])  # SR-1 lost, one doubled
    catalog.tables["rejected_rows"] = catalog.tables["rejected_rows"].slice(0, 0)  # SR-3's rejection lost
    doubled = (lost.column("source_file")[0].as_py(), lost.column("record_index")[0].as_py())
    assert sorted(problems(reconcile(DATE))) == sorted(
        [
            (KEY_A, 0, "not in the published fact_service_records, though its date is published"),
            (*doubled, "in the published fact_service_records 2 times"),
            (KEY_A, 2, "not in the published rejected_rows, though its date is published"),
        ]
    )


def test_a_date_changed_since_its_publish_awaits_it(pipeline, raw, cleaned, errors, repository, clock):
    reconcile, _ = _published(raw, cleaned, errors, repository)
    key = f"service-records/date={DATE}/12-00-00_c.json"
    raw.put_bytes(key, orjson.dumps([a_record("SR-9")]), META)
    ProcessRawFile(raw, cleaned, errors, clock)(key)
    report = reconcile(DATE)
    assert (report.published_rows, report.awaiting_publish_rows) == (0, 4)
    assert not [p for p in report.problems if "published" in p.problem]
