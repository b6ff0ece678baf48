"""The report's SQL (domain/insight_queries.py) at its edges, on a hand-made dataset with known
answers, run by DuckDB on the pipeline's own star schema (the worker writes it)."""

from __future__ import annotations

from datetime import date

import orjson
import pytest

from adapters.duckdb_engine import DuckDbEngine, in_duckdb
from adapters.local.in_memory import InMemoryObjectStore
from application.analytics.insights import BuildInsights
from application.processing.process_raw_file import ProcessRawFile
from application.storage_keys import META_INGESTED_AT, META_SUBMISSION_ID
from domain.insight_queries import QUERIES, RECORDS
from tests.factories import NOW, a_record
from tests.published import published

VIN = "MHFXX12G3K1234567"
OIL = {"service_code": "SRV-OIL", "service_name": "Ganti oli", "service_cost": 150_000}
NO_CODE = {"service_name": "Cuci mobil", "service_cost": 50_000}


def visit(record_id: str, when: str, km: int, services: list[dict], dealer: dict | None = None) -> dict:
    changes = {
        "vehicle.vin": VIN,
        "vehicle.odometer_reading": km,
        "service_details.service_date": when,
        "service_details.services_performed": services,
        "service_details.parts_used": [],
        "service_details.total_cost": sum(s["service_cost"] for s in services),
    }
    if dealer:
        changes["dealer"] = dealer
    return a_record(record_id, changes)


def ingest(stores, clock, name: str, day: str, records: list[dict]) -> None:
    raw, cleaned, errors = stores
    key = f"service-records/date={day}/{name}.json"
    raw.put_bytes(
        key, orjson.dumps(records), metadata={META_INGESTED_AT: f"{day}T00:00:00+00:00", META_SUBMISSION_ID: name}
    )
    ProcessRawFile(raw, cleaned, errors, clock)(key)


@pytest.fixture
def stores():
    return InMemoryObjectStore(NOW), InMemoryObjectStore(NOW), InMemoryObjectStore(NOW)


def report(stores, **period):  # type: ignore[no-untyped-def]
    _, cleaned, errors = stores
    return BuildInsights(published(cleaned, errors), DuckDbEngine())(**period)


def repeats(found) -> list[tuple]:  # type: ignore[no-untyped-def]
    return [
        (r["previous_record_id"], r["service_record_id"], r["days_apart"], r["km_apart"])
        for r in found.tables["repeat_repairs"].to_dict("records")
    ]


def test_exactly_30_days_and_3000_km_is_a_repeat_and_a_second_more_or_a_km_more_is_not(stores, clock) -> None:
    ingest(
        stores,
        clock,
        "a",
        "2026-11-20",
        [
            visit("A1", "2026-09-01T10:00:00+07:00", 10_000, [OIL]),
            visit("A2", "2026-10-01T10:00:00+07:00", 13_000, [OIL]),  # 30 days, 3,000 km: a repeat
            visit("A3", "2026-10-31T10:00:01+07:00", 14_000, [OIL]),  # 30 days and 1 s: not
            visit("A4", "2026-11-01T10:00:00+07:00", 17_001, [OIL]),  # 3,001 km: not
        ],
    )
    assert repeats(report(stores)) == [("A1", "A2", 30.0, 3_000)]


def test_thirty_and_a_half_days_is_not_a_repeat(stores, clock) -> None:
    ingest(
        stores,
        clock,
        "a",
        "2026-11-20",
        [visit("B1", "2026-09-01T00:00:00Z", 1_000, [OIL]), visit("B2", "2026-10-01T12:00:00Z", 1_100, [OIL])],
    )
    assert repeats(report(stores)) == []


def test_a_code_twice_in_a_record_is_one_visit_and_a_line_without_a_code_is_none(stores, clock) -> None:
    ingest(
        stores,
        clock,
        "a",
        "2026-11-20",
        [
            visit("C1", "2026-10-01T10:00:00+07:00", 1_000, [OIL, OIL, NO_CODE]),
            visit("C2", "2026-10-05T10:00:00+07:00", 1_200, [NO_CODE, OIL]),
        ],
    )
    found = report(stores)
    assert repeats(found) == [("C1", "C2", 4.0, 200)]  # not C1 -> C1, and no repeat without a code
    counted = {r["service_name"]: r["services"] for r in found.tables["frequent_services"].to_dict("records")}
    assert counted == {"Ganti oli": 3, "Cuci mobil": 2}  # every line counts as a service performed


def test_visits_at_one_instant_are_ordered_by_dealer_then_record(stores, clock) -> None:
    jakarta = {"dealer_id": "DLR-JKT-001", "dealer_name": "Astra Jakarta", "dealer_location": "Jakarta"}
    bandung = {"dealer_id": "DLR-BDG-001", "dealer_name": "Astra Bandung", "dealer_location": "Bandung"}
    same = "2026-10-01T10:00:00+07:00"
    ingest(stores, clock, "a", "2026-11-20", [visit("Z9", same, 1_000, [OIL], jakarta)])
    ingest(stores, clock, "b", "2026-11-20", [visit("Z1", same, 1_000, [OIL], bandung)])
    assert repeats(report(stores)) == [("Z1", "Z9", 0.0, 0)]  # DLR-BDG-001 sorts before DLR-JKT-001


def test_a_renamed_dealer_is_one_dealer_with_its_latest_name(stores, clock) -> None:
    old = {"dealer_id": "DLR-JKT-001", "dealer_name": "Astra Sunter", "dealer_location": "Jakarta"}
    new = {"dealer_id": "DLR-JKT-001", "dealer_name": "Astra Sunter Baru", "dealer_location": "Jakarta Utara"}
    ingest(stores, clock, "a", "2026-11-01", [visit("D1", "2026-10-01T10:00:00+07:00", 1_000, [OIL], old)])
    ingest(stores, clock, "b", "2026-11-02", [visit("D2", "2026-10-20T10:00:00+07:00", 9_000, [OIL], new)])
    (row,) = report(stores).tables["cost_by_dealer"].to_dict("records")
    assert (row["dealer_name"], row["city"], row["services"], row["total_cost"]) == (
        "Astra Sunter Baru",
        "Jakarta Utara",
        2,
        300_000,
    )


def test_a_corrected_record_counts_once_with_its_latest_lines(stores, clock) -> None:
    ingest(stores, clock, "a", "2026-11-01", [visit("E1", "2026-10-01T10:00:00+07:00", 1_000, [OIL, NO_CODE])])
    ingest(stores, clock, "b", "2026-11-02", [visit("E1", "2026-10-01T10:00:00+07:00", 1_000, [OIL])])
    found = report(stores)
    assert found.records == 1
    assert found.tables["frequent_services"].to_dict("records") == [
        {"model": "Toyota Avanza", "year": 2019, "service_name": "Ganti oli", "services": 1}
    ]
    assert report(stores, since=date(2026, 10, 2)).records == 0


@pytest.mark.parametrize("name", [*QUERIES, "records"])
def test_every_query_is_athena_sql_that_translates_to_duckdb(name) -> None:
    """Each text parses in Athena's dialect and translates; the edge tests above run them."""
    import sqlglot

    sql = QUERIES.get(name, RECORDS)
    sqlglot.parse_one(sql, read="athena")
    assert in_duckdb(sql)


def test_the_docs_quote_every_query_as_the_code_holds_it() -> None:
    from pathlib import Path

    from entrypoints.cli.query_docs import with_queries

    docs = (Path(__file__).resolve().parents[2] / "docs" / "analytics.md").read_text()
    assert docs == with_queries(docs), "docs/analytics.md quotes other SQL than the code: run make docs"
    for sql in QUERIES.values():
        assert sql.rstrip() in docs


def test_the_repeat_thresholds_in_the_sql_are_the_reports() -> None:
    from domain.insight_queries import REPEAT_DAYS, REPEAT_KM, REPEAT_REPAIRS

    assert f"seconds_apart <= {REPEAT_DAYS} * 86400" in REPEAT_REPAIRS
    assert f"abs(km_apart) <= {REPEAT_KM}\n" in REPEAT_REPAIRS
    assert f"within {REPEAT_DAYS} days and {REPEAT_KM:,} km" in REPEAT_REPAIRS
