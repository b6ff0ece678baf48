"""PublishTables on in-memory stores: a date's committed outputs, published once, whole."""

from __future__ import annotations

from datetime import date, timedelta

import orjson
import pyarrow.compute as pc
import pytest

from adapters.local.in_memory import FixedClock, InMemoryObjectStore, InMemoryTableCatalog
from application.analytics.publish_tables import SNAPSHOT_RETENTION, PublishTables
from application.analytics.table_catalog import TableChanged
from application.processing.process_raw_file import ProcessRawFile
from domain.analytics_tables import BY_DATE, SCHEMAS
from tests.factories import NOW, a_record


class Staging:
    """Raw files processed by the worker's use-case: the outputs publish reads."""

    def __init__(self) -> None:
        self.raw, self.cleaned, self.errors = InMemoryObjectStore(), InMemoryObjectStore(), InMemoryObjectStore()

    def process(self, day: str, name: str, *records: dict, at: str = "12:00:00") -> str:
        key = f"service-records/date={day}/{name}.json"
        meta = {"submission-id": name, "ingested-at": f"{day}T{at}+00:00"}
        self.raw.put_bytes(key, orjson.dumps(list(records)), meta)
        ProcessRawFile(self.raw, self.cleaned, self.errors, FixedClock(NOW))(key)
        return key


@pytest.fixture
def staging() -> Staging:
    return Staging()


def fact_ids(catalog: InMemoryTableCatalog, day: str | None = None) -> list[str]:
    fact = catalog.tables["fact_service_records"]
    if day:
        fact = fact.filter(pc.equal(fact.column("ingest_date"), date.fromisoformat(day)))
    return sorted(fact.column("service_record_id").to_pylist())


def test_each_date_is_published_with_its_lines_first_and_the_dimensions_after(staging) -> None:
    staging.process("2026-11-24", "a", a_record("SR-1"), a_record("SR-2"))
    staging.process("2026-11-25", "b", a_record("SR-3"))
    catalog = InMemoryTableCatalog()
    report = PublishTables(staging.cleaned, staging.errors, catalog, FixedClock(NOW))()
    assert report.ok and report.dates == ["2026-11-24", "2026-11-25"]
    assert fact_ids(catalog, "2026-11-24") == ["SR-1", "SR-2"] and fact_ids(catalog, "2026-11-25") == ["SR-3"]
    assert catalog.commits[: len(BY_DATE) + 1] == ["rejected_rows", *BY_DATE]  # lines, facts, changes
    assert BY_DATE.index("dim_parts_used") < BY_DATE.index("fact_service_records")
    assert catalog.tables["dim_parts_used"].num_rows == 6  # two part lines a record
    assert catalog.tables["dim_dealer"].column("dealer_id").to_pylist() == ["DLR-JKT-001"]
    assert catalog.tables["dim_dealer_history"].num_rows == 1


def test_publishing_again_changes_nothing_and_says_so(staging) -> None:
    staging.process("2026-11-25", "a", a_record("SR-1"))
    catalog = InMemoryTableCatalog()
    PublishTables(staging.cleaned, staging.errors, catalog, FixedClock(NOW))()
    before, commits = dict(catalog.tables), len(catalog.commits)
    again = PublishTables(staging.cleaned, staging.errors, catalog, FixedClock(NOW))()
    assert again.dates == [] and again.unchanged == ["2026-11-25"]
    assert len(catalog.commits) == commits and catalog.tables == before


def test_a_late_file_republishes_its_date_once_and_no_other(staging) -> None:
    staging.process("2026-11-24", "a", a_record("SR-1"))
    staging.process("2026-11-25", "b", a_record("SR-2"))
    catalog = InMemoryTableCatalog()
    PublishTables(staging.cleaned, staging.errors, catalog, FixedClock(NOW))()
    staging.process("2026-11-25", "late", a_record("SR-3"))
    report = PublishTables(staging.cleaned, staging.errors, catalog, FixedClock(NOW))()
    assert report.dates == ["2026-11-25"] and report.unchanged == ["2026-11-24"]
    assert fact_ids(catalog) == ["SR-1", "SR-2", "SR-3"]  # nothing doubled


def test_a_replayed_file_replaces_its_rows_never_adds_to_them(staging) -> None:
    key = staging.process("2026-11-25", "a", a_record("SR-1"), a_record("SR-2"))
    catalog = InMemoryTableCatalog()
    PublishTables(staging.cleaned, staging.errors, catalog, FixedClock(NOW))()
    # The replay after a rule change rejects SR-2 now: the worker rewrites the file's outputs.
    staging.raw.put_bytes(
        key,
        orjson.dumps([a_record("SR-1"), a_record("SR-2", {"vehicle.vin": "BAD"})]),
        {"submission-id": "a", "ingested-at": "2026-11-25T12:00:00+00:00"},
    )
    ProcessRawFile(staging.raw, staging.cleaned, staging.errors, FixedClock(NOW))(key)
    report = PublishTables(staging.cleaned, staging.errors, catalog, FixedClock(NOW))()
    assert report.dates == ["2026-11-25"]
    assert fact_ids(catalog) == ["SR-1"]
    assert catalog.tables["dim_parts_used"].column("service_record_id").to_pylist() == ["SR-1", "SR-1"]


def test_a_renamed_dealer_is_one_current_row_across_dates(staging) -> None:
    staging.process("2026-11-24", "a", a_record("SR-1"))
    staging.process("2026-11-25", "b", a_record("SR-2", {"dealer.dealer_name": "Astra Motor Sunter Baru"}))
    catalog = InMemoryTableCatalog()
    PublishTables(staging.cleaned, staging.errors, catalog, FixedClock(NOW))()
    assert catalog.tables["dim_dealer"].select(["dealer_id", "dealer_name"]).to_pylist() == [
        {"dealer_id": "DLR-JKT-001", "dealer_name": "Astra Motor Sunter Baru"}
    ]
    names = catalog.tables["dim_dealer_history"].column("dealer_name").to_pylist()
    assert names == ["Astra Motor Sunter", "Astra Motor Sunter Baru"]


def test_an_output_missing_from_its_manifest_leaves_that_date_as_it_was_and_says_what_to_do(staging) -> None:
    staging.process("2026-11-24", "a", a_record("SR-1"))
    key = staging.process("2026-11-25", "b", a_record("SR-2"))
    lost = "parquet/dim_parts_used/date=2026-11-25/b.json.parquet"
    assert key.endswith("b.json") and lost in staging.cleaned.objects
    del staging.cleaned.objects[lost]
    catalog = InMemoryTableCatalog()
    report = PublishTables(staging.cleaned, staging.errors, catalog, FixedClock(NOW))()
    assert not report.ok and report.dates == ["2026-11-24"]
    assert report.problems == {
        "2026-11-25": f"output {lost} is listed in its manifest but missing: replay its raw file"
    }
    # Nothing of the date was committed, in any table: it is never half published.
    assert fact_ids(catalog) == ["SR-1"]
    assert catalog.tables["dim_services_performed"].column("service_record_id").to_pylist() == ["SR-1"]


def test_a_date_asked_for_is_published_even_when_unchanged(staging) -> None:
    staging.process("2026-11-25", "a", a_record("SR-1"))
    catalog = InMemoryTableCatalog()
    PublishTables(staging.cleaned, staging.errors, catalog, FixedClock(NOW))()
    report = PublishTables(staging.cleaned, staging.errors, catalog, FixedClock(NOW))(["2026-11-25"])
    assert report.dates == ["2026-11-25"] and fact_ids(catalog) == ["SR-1"]


def test_rejected_and_unreadable_files_publish_nothing_of_theirs(staging) -> None:
    staging.process("2026-11-25", "a", a_record("SR-1", {"vehicle.vin": "BAD"}))
    staging.raw.put_bytes("service-records/date=2026-11-25/png.json", b"\x89PNG", {"submission-id": "png"})
    ProcessRawFile(staging.raw, staging.cleaned, staging.errors, FixedClock(NOW))(
        "service-records/date=2026-11-25/png.json"
    )
    catalog = InMemoryTableCatalog()
    report = PublishTables(staging.cleaned, staging.errors, catalog, FixedClock(NOW))()
    assert report.ok and report.dates == ["2026-11-25"]
    assert catalog.tables["fact_service_records"].num_rows == 0 and catalog.tables["dim_dealer"].num_rows == 0


class RacedCatalog(InMemoryTableCatalog):
    """A catalog where another publish commits ``table`` first, once."""

    def __init__(self, table: str) -> None:
        super().__init__()
        self.raced = table

    def _race(self, table: str) -> None:
        if table == self.raced:
            self.raced = ""
            raise TableChanged(f"another publish changed {table} meanwhile: run servicepipe publish again")

    def replace_date(self, table, schema, ingest_date, batches, version):  # type: ignore[no-untyped-def]
        self._race(table)
        return super().replace_date(table, schema, ingest_date, batches, version)

    def replace_all(self, table, schema, data, built_from):  # type: ignore[no-untyped-def]
        self._race(table)
        return super().replace_all(table, schema, data, built_from)


@pytest.mark.parametrize("raced", ["fact_service_records", "dim_vehicle_history"])
def test_a_commit_another_publish_made_stale_is_named_and_the_next_run_mends_it(staging, raced) -> None:
    staging.process("2026-11-25", "a", a_record("SR-1"))
    catalog = RacedCatalog(raced)
    report = PublishTables(staging.cleaned, staging.errors, catalog, FixedClock(NOW))()
    where = "dimensions" if raced.startswith("dim_") else "2026-11-25"
    assert report.problems == {where: f"another publish changed {raced} meanwhile: run servicepipe publish again"}
    again = PublishTables(staging.cleaned, staging.errors, catalog, FixedClock(NOW))()
    assert again.ok and fact_ids(catalog) == ["SR-1"]
    assert catalog.tables["dim_vehicle_history"].num_rows == 1 and catalog.tables["dim_vehicle"].num_rows == 1
    commits = len(catalog.commits)
    assert (
        PublishTables(staging.cleaned, staging.errors, catalog, FixedClock(NOW))().tables == {}
        and len(catalog.commits) == commits
    )


class TidyRefused(InMemoryTableCatalog):
    def tidy(self, table, before):  # type: ignore[no-untyped-def]
        tidied = super().tidy(table, before)
        if table == "dim_parts_used":
            raise TableChanged(f"another publish changed {table} meanwhile: run servicepipe publish again")
        return tidied


def test_every_table_is_tidied_of_what_is_older_than_a_week_and_a_refusal_is_named(staging) -> None:
    staging.process("2026-11-25", "a", a_record("SR-1"))
    catalog = TidyRefused()
    report = PublishTables(staging.cleaned, staging.errors, catalog, FixedClock(NOW))()
    assert catalog.tidied == [(name, NOW - timedelta(days=7)) for name in SCHEMAS]
    assert timedelta(days=7) == SNAPSHOT_RETENTION
    assert report.problems == {
        "tidying": "another publish changed dim_parts_used meanwhile: run servicepipe publish again"
    }
    assert report.dates == ["2026-11-25"] and fact_ids(catalog) == ["SR-1"]  # published all the same


def test_a_dates_rejected_rows_are_published_with_it_a_row_per_rule(staging) -> None:
    """What rejection rates count, from the same files as the facts: the dealer as cleaning
    reads it (trimmed), each rule a row failed once, its file and index; nothing of the record."""
    bad = a_record("SR-2", {"vehicle.vin": "SHORT", "vehicle.year": 1800, "dealer.dealer_id": " DLR-JKT-001 "})
    key = staging.process("2026-11-25", "a", a_record("SR-1"), bad)
    catalog = InMemoryTableCatalog()
    assert PublishTables(staging.cleaned, staging.errors, catalog, FixedClock(NOW))().ok
    rows = catalog.tables["rejected_rows"].to_pylist()
    assert rows == [
        {
            "dealer_id": "DLR-JKT-001",
            "rule": rule,
            "source_file": key,
            "record_index": 1,
            "ingest_date": date(2026, 11, 25),
        }
        for rule in ("vin_format", "year_range")
    ]
    assert catalog.tables["rejected_rows"].schema == SCHEMAS["rejected_rows"]


def test_a_missing_rejected_rows_file_leaves_its_date_as_it_was(staging) -> None:
    key = staging.process("2026-11-25", "a", a_record("SR-1"), a_record("SR-2", {"vehicle.vin": "SHORT"}))
    (lost,) = staging.errors.list_keys("rejected/")
    staging.errors.delete(lost)
    catalog = InMemoryTableCatalog()
    report = PublishTables(staging.cleaned, staging.errors, catalog, FixedClock(NOW))()
    assert report.problems == {
        "2026-11-25": f"output {lost} is listed in its manifest but missing: replay its raw file"
    }
    assert catalog.tables == {} and key


def test_a_date_published_before_a_table_existed_is_published_again(staging) -> None:
    staging.process("2026-11-25", "a", a_record("SR-1"), a_record("SR-2", {"vehicle.vin": "SHORT"}))
    catalog = InMemoryTableCatalog()
    PublishTables(staging.cleaned, staging.errors, catalog, FixedClock(NOW))()
    del catalog.tables["rejected_rows"]  # as a catalog published before rejected_rows was added
    catalog.versions = {k: v for k, v in catalog.versions.items() if k[0] != "rejected_rows"}
    again = PublishTables(staging.cleaned, staging.errors, catalog, FixedClock(NOW))()
    assert again.dates == ["2026-11-25"] and catalog.tables["rejected_rows"].num_rows == 1
