"""Columnar cleaning: raw Arrow rows in, typed valid rows and per-row rule violations out.

Everything here works on whole columns (pandas / pyarrow); the only Python loops run
over the rule failures, never over the valid rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pyarrow as pa_arrow
import pyarrow.compute as pc

from domain.problems import Violation
from domain.rules import (
    COST_MISMATCH_TOLERANCE,
    DERIVED_FIELDS,
    FRAME_CHECK_FIELDS,
    PART_LINE_SCHEMA,
    RULES,
    SERVICE_LINE_SCHEMA,
    record_schema,
)
from domain.timezones import DEFAULT_ZONE, ZONES, zones_for_cities

# An offset only counts after a time of day: "2024-03-01" ends in "-01" but has no zone.
_OFFSET_SUFFIX = r"[T ]\d{2}:\d{2}.*(?:[Zz]|[+-]\d{2}(?::?\d{2})?)$"
_NULLABLE_INTS = {pa_arrow.int64(): pd.Int64Dtype()}
_ID_COLUMNS = ("service_record_id", "dealer.dealer_id", "customer.customer_id")


@dataclass
class CleanResult:
    """Valid rows (records, service lines, part lines) and the violations of the rest.

    ``records`` is indexed by row position in the input table; ``violations`` maps a row
    position to every rule it broke.
    """

    records: pd.DataFrame
    services: pd.DataFrame
    parts: pd.DataFrame
    violations: dict[int, list[Violation]] = field(default_factory=dict)


def _blank_to_null(series: pd.Series) -> pd.Series:
    stripped = series.str.strip()
    return stripped.where(stripped != "")


def parse_service_dates(raw: pd.Series) -> pd.Series:
    """ISO-8601 strings to UTC timestamps; strings without an offset are WIB. Bad: NaT."""
    text = raw.str.strip()
    has_offset = text.str.contains(_OFFSET_SUFFIX, regex=True).fillna(False).astype(bool)
    aware = pd.to_datetime(text.where(has_offset), format="ISO8601", utc=True, errors="coerce")
    naive = pd.to_datetime(text.where(~has_offset), format="ISO8601", errors="coerce")
    naive_utc = naive.dt.tz_localize(ZONES[DEFAULT_ZONE]).dt.tz_convert("UTC")
    return aware.where(has_offset, naive_utc).astype("datetime64[us, UTC]")


def _lines(table: pa_arrow.Table, column: str) -> pd.DataFrame:
    """One row per list element, with its parent row position and 1-based line number."""
    lists = table.column(column).combine_chunks()
    parent = pc.list_parent_indices(lists).to_numpy()
    values = pc.list_flatten(lists)
    lines = pa_arrow.Table.from_arrays(values.flatten(), names=[f.name for f in values.type])
    lines = lines.to_pandas(types_mapper=_NULLABLE_INTS.get)
    lines.insert(0, "parent", parent)
    starts = lists.offsets.to_numpy()
    starts = starts - starts[0]
    lines.insert(1, "line_number", np.arange(len(lines)) - starts[parent] + 1)
    return lines


def _failures(schema: pa.DataFrameSchema, frame: pd.DataFrame) -> list[tuple[int, str, str]]:
    """(row position, column, check name) of every failed check, one per row and check."""
    try:
        schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as err:
        cases = err.failure_cases
        cases = cases[cases["index"].notna()].drop_duplicates(["index", "check"])
        rows = cases["index"].to_numpy(dtype="int64").tolist()
        return list(zip(rows, cases["column"].astype(str), cases["check"].astype(str), strict=True))
    return []


def _rule_name(check: str) -> str:
    return "required" if check == "not_nullable" else check


def _to_json_value(value: object) -> object:
    if value is None or value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, float) and np.isnan(value):
        return None
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value


def clean(table: pa_arrow.Table, now: datetime) -> CleanResult:
    """Validate and normalise rows of ``domain.raw_schema.RAW_SCHEMA``; ``now`` is aware."""
    flat = table.flatten().flatten()
    scalar_names = [n for n in flat.column_names if not n.endswith(("services_performed", "parts_used"))]
    frame = flat.select(scalar_names).to_pandas(types_mapper=_NULLABLE_INTS.get)

    for name in _ID_COLUMNS:
        frame[name] = _blank_to_null(frame[name])
    frame["vehicle.vin"] = _blank_to_null(frame["vehicle.vin"]).str.upper()
    frame["service_details.service_date"] = _blank_to_null(frame["service_details.service_date"])
    frame["service_datetime_utc"] = parse_service_dates(frame["service_details.service_date"])
    wib_year = frame["service_datetime_utc"].dt.tz_convert(ZONES[DEFAULT_ZONE]).dt.year
    frame["max_model_year"] = wib_year + 1

    services = _lines(flat, "service_details.services_performed")
    parts = _lines(flat, "service_details.parts_used")

    violations: dict[int, list[Violation]] = {}

    def add(position: int, field_path: str, rule: str, value: object) -> None:
        violations.setdefault(position, []).append(
            Violation(field_path, rule, RULES[rule].message, _to_json_value(value))
        )

    for position, column, check in _failures(record_schema(now), frame):
        rule = _rule_name(check)
        source = FRAME_CHECK_FIELDS.get(rule) or DERIVED_FIELDS.get(column, column)
        add(position, source, rule, frame[source].iat[position])

    for lines, schema, list_name in (
        (services, SERVICE_LINE_SCHEMA, "services_performed"),
        (parts, PART_LINE_SCHEMA, "parts_used"),
    ):
        parents = lines["parent"].to_numpy()
        numbers = lines["line_number"].to_numpy()
        for line, column, check in _failures(schema, lines):
            path = f"service_details.{list_name}[{numbers[line] - 1}].{column}"
            add(int(parents[line]), path, _rule_name(check), lines[column].iat[line])

    bad = np.zeros(len(frame), dtype=bool)
    if violations:
        bad[list(violations)] = True
    valid = ~bad

    n = len(frame)
    service_cost = services["service_cost"].fillna(0).to_numpy(dtype=float)
    part_cost = (parts["quantity"].fillna(0) * parts["unit_cost"].fillna(0)).to_numpy(dtype=float)
    parts["line_cost"] = part_cost
    frame["services_cost_total"] = np.bincount(services["parent"], weights=service_cost, minlength=n)
    frame["parts_cost_total"] = np.bincount(parts["parent"], weights=part_cost, minlength=n)
    frame["services_count"] = np.bincount(services["parent"], minlength=n)
    frame["parts_count"] = np.bincount(parts["parent"], minlength=n)
    expected = frame["services_cost_total"] + frame["parts_cost_total"]
    total = frame["service_details.total_cost"]
    frame["cost_mismatch"] = (total - expected).abs() > COST_MISMATCH_TOLERANCE * total.abs()

    frame["dealer_timezone"] = zones_for_cities(frame["dealer.dealer_location"])

    valid_index = np.flatnonzero(valid)
    records = frame.iloc[valid_index]
    services = services[valid[services["parent"].to_numpy()]] if len(services) else services
    parts = parts[valid[parts["parent"].to_numpy()]] if len(parts) else parts
    return CleanResult(records=records, services=services, parts=parts, violations=violations)
