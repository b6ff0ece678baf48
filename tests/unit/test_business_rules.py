"""Every business rule, through the real reader and the columnar cleaner."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import orjson
import pandas as pd
import pytest

from application.processing.raw_reader import parse_lines
from domain.cleaning import CleanResult, clean
from tests.factories import NOW, VALID_VIN, a_record


def clean_records(*records: dict[str, Any]) -> CleanResult:
    batch = parse_lines([orjson.dumps(r) for r in records], 0)
    assert not batch.rejected
    return clean(batch.table, NOW)


def rules_broken(record: dict[str, Any]) -> set[tuple[str, str]]:
    result = clean_records(record)
    return {(v.field, v.rule) for v in result.violations.get(0, [])}


def test_a_valid_record_passes_every_rule() -> None:
    result = clean_records(a_record())
    assert result.violations == {}
    assert result.records.column("service_record_id").to_pylist() == ["SR-1"]


@pytest.mark.parametrize(
    "path", ["service_record_id", "dealer.dealer_id", "vehicle.vin", "service_details.service_date"]
)
@pytest.mark.parametrize("empty", ["", "   "])
def test_blank_required_strings_are_missing(path: str, empty: str) -> None:
    assert (path, "required") in rules_broken(a_record(changes={path: empty}))


@pytest.mark.parametrize(
    "path",
    [
        "service_record_id",
        "dealer.dealer_id",
        "vehicle.vin",
        "vehicle.odometer_reading",
        "service_details.service_date",
        "service_details.total_cost",
    ],
)
def test_absent_required_fields_are_rejected(path: str) -> None:
    assert (path, "required") in rules_broken(a_record(changes={path: None}))


def test_vin_is_trimmed_and_upper_cased_before_the_check() -> None:
    result = clean_records(a_record(changes={"vehicle.vin": f"  {VALID_VIN.lower()} "}))
    assert result.violations == {}
    assert result.records.column("vehicle.vin")[0].as_py() == VALID_VIN


@pytest.mark.parametrize(
    "vin",
    [
        VALID_VIN[:16],
        VALID_VIN + "1",
        "I" + VALID_VIN[1:],
        "O" + VALID_VIN[1:],
        "Q" + VALID_VIN[1:],
        "MHF-X12G3K123456",
    ],
)
def test_malformed_vins_are_rejected(vin: str) -> None:
    assert rules_broken(a_record(changes={"vehicle.vin": vin})) == {("vehicle.vin", "vin_format")}


@pytest.mark.parametrize(("year", "ok"), [(1949, False), (1950, True), (2027, True), (2028, False)])
def test_model_year_runs_from_1950_to_the_service_year_plus_one(year: int, ok: bool) -> None:
    broken = rules_broken(a_record(changes={"vehicle.year": year}))
    assert (broken == set()) is ok
    if not ok:
        assert broken == {("vehicle.year", "year_range")}


def test_model_year_is_optional() -> None:
    assert rules_broken(a_record(changes={"vehicle.year": None})) == set()


@pytest.mark.parametrize(("km", "ok"), [(-1, False), (0, True), (2_000_000, True), (2_000_001, False)])
def test_odometer_range(km: int, ok: bool) -> None:
    broken = rules_broken(a_record(changes={"vehicle.odometer_reading": km}))
    assert broken == (set() if ok else {("vehicle.odometer_reading", "odometer_range")})


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("service_details.total_cost", "service_details.total_cost"),
        ("service_details.services_performed.0.service_cost", "service_details.services_performed[0].service_cost"),
        ("service_details.parts_used.1.unit_cost", "service_details.parts_used[1].unit_cost"),
    ],
)
def test_negative_costs_are_rejected(path: str, field: str) -> None:
    assert (field, "non_negative_cost") in rules_broken(a_record(changes={path: -1}))


def test_zero_costs_are_allowed() -> None:
    record = a_record(
        changes={
            "service_details.total_cost": 0,
            "service_details.services_performed": [],
            "service_details.parts_used": [],
        }
    )
    assert rules_broken(record) == set()


@pytest.mark.parametrize(("quantity", "ok"), [(0, False), (-2, False), (1, True)])
def test_part_quantity_is_at_least_one(quantity: int, ok: bool) -> None:
    broken = rules_broken(a_record(changes={"service_details.parts_used.0.quantity": quantity}))
    expected = {("service_details.parts_used[0].quantity", "quantity_positive")}
    assert (broken & expected == set()) is ok


@pytest.mark.parametrize("text", ["31/02/2024 10:00", "yesterday", "2024-13-01T10:00:00", "2024-02-30"])
def test_unparseable_service_dates_are_rejected(text: str) -> None:
    broken = rules_broken(a_record(changes={"service_details.service_date": text}))
    assert broken == {("service_details.service_date", "service_date_format")}


@pytest.mark.parametrize(
    ("text", "utc"),
    [
        ("2026-11-20T10:30:00+07:00", "2026-11-20T03:30:00"),
        ("2026-11-20T03:30:00Z", "2026-11-20T03:30:00"),
        ("2026-11-20T11:30:00+08:00", "2026-11-20T03:30:00"),
        ("2026-11-20T10:30:00", "2026-11-20T03:30:00"),  # no zone given: WIB
        ("2026-11-20 10:30:00", "2026-11-20T03:30:00"),
        ("2026-11-20", "2026-11-19T17:00:00"),
    ],
)
def test_service_dates_parse_to_utc_and_missing_zones_are_wib(text: str, utc: str) -> None:
    result = clean_records(a_record(changes={"service_details.service_date": text}))
    assert result.violations == {}
    assert result.records.column("service_datetime_utc")[0].as_py() == pd.Timestamp(utc, tz="UTC")


@pytest.mark.parametrize(
    ("when", "ok"),
    [
        ("1999-12-31T23:59:00+07:00", False),
        ("2000-01-01T00:00:00+07:00", True),
        ((NOW + timedelta(hours=23)).isoformat(), True),
        ((NOW + timedelta(days=1, minutes=1)).isoformat(), False),
    ],
)
def test_service_date_is_from_2000_to_one_day_ahead(when: str, ok: bool) -> None:
    broken = rules_broken(a_record(changes={"service_details.service_date": when, "vehicle.year": 1990}))
    assert broken == (set() if ok else {("service_details.service_date", "service_date_range")})


def test_repeated_ids_keep_only_the_last_occurrence() -> None:
    first = a_record("SR-1", {"vehicle.odometer_reading": 1})
    other = a_record("SR-2")
    last = a_record("SR-1", {"vehicle.odometer_reading": 3})
    result = clean_records(first, other, last)
    assert {pos: [v.rule for v in vs] for pos, vs in result.violations.items()} == {0: ["duplicate_id"]}
    assert result.records.column("vehicle.odometer_reading").to_pylist() == [45_000, 3]


def test_a_row_reports_every_rule_it_breaks() -> None:
    record = a_record(changes={"vehicle.vin": "SHORT", "vehicle.odometer_reading": -5, "vehicle.year": 1800})
    assert rules_broken(record) == {
        ("vehicle.vin", "vin_format"),
        ("vehicle.odometer_reading", "odometer_range"),
        ("vehicle.year", "year_range"),
    }


def test_violations_carry_the_offending_value() -> None:
    result = clean_records(a_record(changes={"vehicle.odometer_reading": -5}))
    (violation,) = result.violations[0]
    assert violation.value == -5 and "odometer" in violation.message


@pytest.mark.parametrize(("total", "flagged"), [(650_000, False), (656_000, False), (657_000, True), (500_000, True)])
def test_cost_mismatch_above_one_percent_is_flagged_not_rejected(total: float, flagged: bool) -> None:
    result = clean_records(a_record(changes={"service_details.total_cost": total}))
    assert result.violations == {}
    assert result.records.column("cost_mismatch")[0].as_py() is flagged


def test_unknown_extra_fields_never_cause_a_rejection() -> None:
    record = a_record(changes={"warranty": {"claim": 1}, "vehicle.color": "red"})
    assert rules_broken(record) == set()


def _every_defect() -> list[bytes]:
    """Generated records (every breakage the generator knows) and one of each missing field."""
    from entrypoints.sample_data import generate_records

    records = list(generate_records(400, bad_fraction=0.5, seed=3))
    for path in ("service_record_id", "dealer.dealer_id", "vehicle.vin", "service_details.total_cost"):
        records.append(a_record(f"MISSING-{path}", {path: None}))
    records.append(a_record("BLANK", {"dealer.dealer_id": "  "}))
    records.append(a_record("NO-PART-NAME", {"service_details.parts_used.0.part_name": None}))
    records.append(a_record("NO-SERVICE-COST", {"service_details.services_performed.0.service_cost": None}))
    return [orjson.dumps(r) for r in records]


def _pandera_failures(schema, frame: pd.DataFrame) -> set[tuple[int, str, str]]:
    import pandera.errors

    try:
        schema.validate(frame, lazy=True)
    except pandera.errors.SchemaErrors as err:
        cases = err.failure_cases
        found = set()
        for context, index, column, check in zip(
            cases["schema_context"], cases["index"], cases["column"], cases["check"], strict=True
        ):
            rule = "required" if check == "not_nullable" else check
            # A check on the whole frame is reported once per column of a failing row.
            found.add((int(index), "" if context == "DataFrameSchema" else str(column), rule))
        return found
    return set()


def test_the_hand_run_checks_find_what_pandera_validate_finds() -> None:
    from domain.cleaning import PARTS, SERVICES, line_frame, line_table, normalised, record_frame, rule_failures
    from domain.rules import PART_LINE_SCHEMA, SERVICE_LINE_SCHEMA, record_schema

    batch = parse_lines(_every_defect(), 0)
    flat = normalised(batch.table)
    schema = record_schema(NOW)
    record_cases = [(schema, record_frame(flat))]
    line_cases = [
        (SERVICE_LINE_SCHEMA, line_frame(line_table(flat, SERVICES), SERVICE_LINE_SCHEMA)),
        (PART_LINE_SCHEMA, line_frame(line_table(flat, PARTS), PART_LINE_SCHEMA)),
    ]
    rules_seen = set()
    for checked_schema, frame in record_cases + line_cases:
        ours = rule_failures(checked_schema, frame)
        found = {(int(r), c, k) for r, c, k in zip(ours["row"], ours["column"], ours["check"], strict=True)}
        assert found == _pandera_failures(checked_schema, frame)
        rules_seen |= {rule for _, _, rule in found}
    assert rules_seen >= {
        "required", "vin_format", "year_range", "odometer_range", "non_negative_cost",
        "quantity_positive", "service_date_range", "duplicate_id",
    }  # fmt: skip


@pytest.mark.parametrize("schema_name", ["record", "service", "part"])
def test_the_schemas_declare_nothing_the_hand_run_checks_would_skip(schema_name: str) -> None:
    from domain.rules import PART_LINE_SCHEMA, SERVICE_LINE_SCHEMA, record_schema

    schema = {"record": record_schema(NOW), "service": SERVICE_LINE_SCHEMA, "part": PART_LINE_SCHEMA}[schema_name]
    assert schema.dtype is None and not schema.coerce and not schema.unique and not schema.parsers
    for column in schema.columns.values():
        assert column.dtype is None and not column.unique and not column.coerce and not column.parsers
        assert not column.regex and column.required
