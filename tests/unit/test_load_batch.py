"""LoadBatch: newer-wins upserts, a ledger of loaded files, failures reported per file."""

from __future__ import annotations

import orjson
import pytest

from adapters.local.in_memory import InMemoryObjectStore, InMemoryQueue
from application.loading.load_batch import LoadBatch, parse_instant, pending_files
from application.operations.pipeline_status import PipelineStatus
from application.processing.process_raw_file import ProcessRawFile
from domain.record_identity import RecordKey
from tests.factories import NOW, a_record, put_cleaned

DEALER = "DLR-JKT-001"


def rec(record_id: str, ingested_at: str, dealer_id: str = DEALER, **extra) -> dict:
    return {
        "service_record_id": record_id,
        "dealer_id": dealer_id,
        "vin": "V",
        "service_date": "2026-11-20T03:30:00Z",
        "ingested_at": ingested_at,
        **extra,
    }


def ids(repository) -> list[str]:
    return sorted(key.service_record_id for key in repository.records)


def stored(repository, record_id: str, dealer_id: str = DEALER) -> dict:
    return repository.records[RecordKey(dealer_id, record_id)]


@pytest.fixture
def load(cleaned, repository, clock) -> LoadBatch:
    return LoadBatch(cleaned, repository, clock, batch_records=2)


def test_loads_every_pending_file_and_records_it_in_the_ledger(cleaned, repository, load) -> None:
    put_cleaned(
        cleaned, "dynamodb/date=2026-11-24/a.jsonl", rec("1", "2026-11-24T01:00:00Z"), rec("2", "2026-11-24T01:00:00Z")
    )
    put_cleaned(cleaned, "dynamodb/date=2026-11-25/b.jsonl", rec("3", "2026-11-25T01:00:00Z"))
    report = load()
    assert (report.files_loaded, report.records_loaded, report.files_failed) == (2, 3, [])
    assert ids(repository) == ["1", "2", "3"]
    assert any(key.startswith("load-ledger/date=2026-11-24/a/") for key in cleaned.objects)
    assert pending_files(cleaned) == []


def test_a_rerun_loads_nothing_twice_and_a_late_file_is_not_skipped(cleaned, repository, load) -> None:
    put_cleaned(cleaned, "dynamodb/date=2026-11-25/b.jsonl", rec("1", "2026-11-25T01:00:00Z"))
    load()
    calls = repository.put_calls
    assert load().files_loaded == 0 and repository.put_calls == calls
    put_cleaned(cleaned, "dynamodb/date=2026-11-20/late.jsonl", rec("9", "2026-11-20T01:00:00Z"))
    assert load().files_loaded == 1 and ids(repository) == ["1", "9"]


def test_only_one_date_when_asked(cleaned, repository, load) -> None:
    put_cleaned(cleaned, "dynamodb/date=2026-11-24/a.jsonl", rec("1", "2026-11-24T01:00:00Z"))
    put_cleaned(cleaned, "dynamodb/date=2026-11-25/b.jsonl", rec("2", "2026-11-25T01:00:00Z"))
    assert load("2026-11-25").records_loaded == 1
    assert ids(repository) == ["2"]
    assert pending_files(cleaned) == ["dynamodb/date=2026-11-24/a.jsonl"]


def test_newer_wins_whatever_the_load_order(cleaned, repository, load) -> None:
    put_cleaned(cleaned, "dynamodb/date=2026-11-25/new.jsonl", rec("1", "2026-11-25T10:00:00.5Z", odometer=2))
    load()
    put_cleaned(cleaned, "dynamodb/date=2026-11-24/old.jsonl", rec("1", "2026-11-25T10:00:00Z", odometer=1))
    report = load()
    assert (report.records_loaded, report.records_skipped_older) == (0, 1)
    assert stored(repository, "1")["odometer"] == 2
    put_cleaned(cleaned, "dynamodb/date=2026-11-26/newer.jsonl", rec("1", "2026-11-26T00:00:00+00:00", odometer=3))
    load()
    assert stored(repository, "1")["odometer"] == 3


def test_the_same_id_twice_in_a_file_never_goes_in_one_write(cleaned, repository, load) -> None:
    put_cleaned(
        cleaned,
        "dynamodb/date=2026-11-25/a.jsonl",
        rec("1", "2026-11-25T01:00:00Z", n=1),
        rec("1", "2026-11-25T01:00:00Z", n=2),
    )
    load()  # the fake repository asserts unique keys per put_many
    assert stored(repository, "1")["n"] == 2


def test_the_same_id_from_two_dealerships_is_two_records(cleaned, repository, load) -> None:
    """In one file and one write: (dealer_id, service_record_id) is the key, never the id alone."""
    put_cleaned(
        cleaned,
        "dynamodb/date=2026-11-25/a.jsonl",
        rec("1", "2026-11-25T01:00:00Z", n=1),
        rec("1", "2026-11-25T01:00:00Z", dealer_id="DLR-SBY-002", n=2),
    )
    assert load().records_loaded == 2
    assert (stored(repository, "1")["n"], stored(repository, "1", "DLR-SBY-002")["n"]) == (1, 2)


def test_a_broken_file_is_reported_and_the_others_still_load(cleaned, repository, load) -> None:
    put_cleaned(cleaned, "dynamodb/date=2026-11-25/bad.jsonl", body=b"{not json\n")
    put_cleaned(cleaned, "dynamodb/date=2026-11-25/good.jsonl", rec("1", "2026-11-25T01:00:00Z"))
    report = load()
    assert not report.ok
    assert [f["key"] for f in report.files_failed] == ["dynamodb/date=2026-11-25/bad.jsonl"]
    assert ids(repository) == ["1"]
    assert pending_files(cleaned) == ["dynamodb/date=2026-11-25/bad.jsonl"]  # retried next time


def test_parse_instant_takes_z_and_offsets() -> None:
    assert parse_instant("2026-11-25T10:00:00Z") == parse_instant("2026-11-25T17:00:00+07:00")
    assert parse_instant("2026-11-25T10:00:00.5Z") > parse_instant("2026-11-25T10:00:00Z")


RAW_KEY = "service-records/date=2026-11-25/12-00-00_sub-1.json"


def processed(raw, cleaned, errors, clock, *records: dict) -> None:
    raw.put_bytes(RAW_KEY, orjson.dumps(list(records)), {"ingested-at": "2026-11-25T12:00:00+00:00"})
    ProcessRawFile(raw, cleaned, errors, clock)(RAW_KEY)


def test_new_content_under_a_loaded_name_is_loaded_again(raw, cleaned, errors, clock, repository, load) -> None:
    processed(raw, cleaned, errors, clock, a_record("SR-1", {"vehicle.odometer_reading": 1_000}))
    assert load().records_loaded == 1
    # The same raw key processed again with corrected content (a replay after a fix).
    processed(raw, cleaned, errors, clock, a_record("SR-1", {"vehicle.odometer_reading": 2_000}))
    assert load().records_loaded == 1
    assert stored(repository, "SR-1")["vehicle"]["odometer_reading"] == 2_000
    assert load().files_loaded == 0  # and loaded once only


class ManifestWriteKilled(InMemoryObjectStore):
    """A cleaned store whose process dies just before the manifest is written."""

    def put_bytes(self, key, data, *args, **kwargs) -> None:
        if key.startswith("manifests/"):
            raise SystemExit("killed")
        super().put_bytes(key, data, *args, **kwargs)


def test_outputs_without_their_manifest_are_neither_loaded_nor_counted(raw, errors, clock, repository) -> None:
    cleaned = ManifestWriteKilled(now=NOW)
    raw.put_bytes(RAW_KEY, orjson.dumps([a_record("SR-1")]))
    with pytest.raises(SystemExit):
        ProcessRawFile(raw, cleaned, errors, clock)(RAW_KEY)
    assert any(key.startswith("dynamodb/") for key in cleaned.objects)  # the JSONL is there...
    report = LoadBatch(cleaned, repository, clock)()
    assert (report.files_loaded, repository.count()) == (0, 0)  # ...but not committed
    status = PipelineStatus(raw, cleaned, InMemoryQueue(), repository)()
    assert (status.processed_files, status.valid_rows) == (0, 0)
