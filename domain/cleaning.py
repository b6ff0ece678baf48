"""Columnar cleaning: raw Arrow rows in, typed valid rows and per-row rule violations out.

Normalisation runs on Arrow columns, the rules run as pandera checks on whole pandas
columns, and the valid rows stay in Arrow. The only Python loops run over rule failures,
never over the valid rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pyarrow as pa_arrow
import pyarrow.compute as pc

from domain.limits import CONTROL_CHARACTERS, MAX_COST, MAX_LINE_ITEMS, MAX_PART_QUANTITY
from domain.problems import Violation
from domain.rule_catalog import RULES
from domain.rules import (
    COST_MISMATCH_TOLERANCE,
    DERIVED_FIELDS,
    FORCED_DUPLICATE,
    FRAME_CHECK_FIELDS,
    PART_LINE_SCHEMA,
    SERVICE_LINE_SCHEMA,
    record_schema,
)
from domain.service_dates import OFFSET_PATTERN, SERVICE_DATE_PATTERN, WIB, service_date_micros
from domain.timezones import DEFAULT_ZONE, ZONES, zones_for_cities

_NULLABLE_INTS = {pa_arrow.int64(): pd.Int64Dtype()}
_TRIMMED_TEXT = ("service_record_id", "dealer.dealer_id", "customer.customer_id", "service_details.service_date")
SERVICES = "service_details.services_performed"
PARTS = "service_details.parts_used"


@dataclass
class CleanResult:
    """The valid rows and the violations of the rest.

    ``records`` is the flattened raw table (contract field paths as column names) for the
    valid rows, normalised, plus derived columns; ``services`` and ``parts`` hold their
    lines with the ``service_record_id`` they belong to. ``violations`` maps an input row
    position to every rule it broke.
    """

    records: pa_arrow.Table
    services: pa_arrow.Table
    parts: pa_arrow.Table
    violations: dict[int, list[Violation]] = field(default_factory=dict)


ROUNDABLE = 1e300  # amounts below this are rounded to sen without overflow


def _blank_to_null(values: pa_arrow.Array) -> pa_arrow.Array:
    trimmed = pc.utf8_trim_whitespace(values)
    return pc.if_else(pc.equal(trimmed, ""), None, trimmed)


def parse_service_dates(dates: pa_arrow.Array | pa_arrow.ChunkedArray) -> pd.Series:
    """Service-date text to UTC timestamps. Text without an offset is WIB, UTC+7: a fixed
    offset, not Asia/Jakarta's history, whose clock changes before 1964 made some wall times
    ambiguous or nonexistent (and every date before 2000 is out of range anyway). Text outside
    the grammar of ``domain.service_dates``, or an impossible date: NaT.

    Arrow reads a whole column at once, ten times faster than parsing value by value, but
    refuses the column for one impossible date (30 February), more than 6 decimals or year 0;
    such a column is read value by value by the API's own parser
    (``tests/unit/test_service_date_parsing.py`` holds the two readings equal)."""
    well_formed = pc.fill_null(pc.match_substring_regex(dates, SERVICE_DATE_PATTERN), False)
    candidates = pc.if_else(well_formed, dates, pa_arrow.scalar(None, pa_arrow.string()))
    try:
        utc = arrow_service_dates(candidates)
    except pa_arrow.ArrowInvalid:
        utc = python_service_dates(candidates)
    return pd.Series(utc.to_pandas()).astype("datetime64[us, UTC]")


_UTC = pa_arrow.timestamp("us", tz="UTC")
_NO_TEXT = pa_arrow.scalar(None, pa_arrow.string())
_WIB_OFFSET = pa_arrow.scalar(WIB.utcoffset(None), pa_arrow.duration("us"))  # no offset given: WIB


def arrow_service_dates(candidates: pa_arrow.Array | pa_arrow.ChunkedArray) -> pa_arrow.Array | pa_arrow.ChunkedArray:
    """Well-formed service dates (others null) read by Arrow's ISO-8601 parser; raises
    ``ArrowInvalid`` if any value is not a date it can read."""
    if pc.any(pc.starts_with(candidates, "0000")).as_py():  # Arrow reads some forms of year 0; Python none
        raise pa_arrow.ArrowInvalid("year 0 is not a calendar year")
    has_offset = pc.fill_null(pc.match_substring_regex(candidates, OFFSET_PATTERN), False)
    aware = pc.cast(pc.if_else(has_offset, candidates, _NO_TEXT), _UTC)
    naive = pc.cast(pc.if_else(has_offset, _NO_TEXT, candidates), pa_arrow.timestamp("us"))
    naive_utc = pc.subtract(naive, _WIB_OFFSET).cast(_UTC)
    return pc.if_else(has_offset, aware, naive_utc)


def python_service_dates(candidates: pa_arrow.Array | pa_arrow.ChunkedArray) -> pa_arrow.Array:
    """Well-formed service dates (others null) read one by one, as the API reads them: null
    where the calendar refuses one."""
    texts = candidates.to_pylist()
    return pa_arrow.array([None if t is None else service_date_micros(t) for t in texts], pa_arrow.int64()).cast(_UTC)


def line_table(flat: pa_arrow.Table, column: str) -> pa_arrow.Table:
    """One row per list element: its parent row position, 1-based line number and fields."""
    lists = flat.column(column).combine_chunks()
    parent = pc.list_parent_indices(lists)
    values = pc.list_flatten(lists)
    starts = lists.offsets.to_numpy()
    starts = starts - starts[0]
    numbers = np.arange(len(values)) - starts[parent.to_numpy()] + 1
    fields = {"parent": parent.cast(pa_arrow.int64()), "line_number": pa_arrow.array(numbers, pa_arrow.int32())}
    fields.update({f.name: values.field(f.name) for f in values.type})
    return pa_arrow.table(fields)


def rule_failures(schema: pa.DataFrameSchema, frame: pd.DataFrame) -> pd.DataFrame:
    """Rows (``row``, ``column``, ``check``) of every failed rule, one per row and rule.

    Runs each pandera ``Check`` of the schema, and its nullability, on whole columns through
    the checks' public call. ``schema.validate(lazy=True)`` finds the same rows
    (``tests/unit/test_business_rules.py`` holds them equal, and refuses a schema that
    declares more than checks and nullability, which this would not enforce) but builds a
    report frame per failing check, which cost more than all the checks together.
    """
    found: list[tuple[np.ndarray, str, str]] = []

    def failed(output: pd.Series) -> np.ndarray:
        # Checks leave out null values (they pass), so failures are read off the index.
        return output.index.to_numpy()[~output.to_numpy(dtype=bool)]

    for name, column in schema.columns.items():
        values = frame[name]
        if not column.nullable:
            found.append((np.flatnonzero(values.isna().to_numpy()), name, "required"))
        for check in column.checks:
            found.append((failed(check(values).check_output), name, check.name))
    for check in schema.checks:
        found.append((failed(check(frame).check_output), "", check.name))
    found = [(rows, column, check) for rows, column, check in found if len(rows)]
    return pd.DataFrame(
        {
            "row": np.concatenate([rows for rows, _, _ in found]) if found else np.empty(0, np.int64),
            "column": [column for rows, column, _ in found for _ in range(len(rows))],
            "check": [check for rows, _, check in found for _ in range(len(rows))],
        }
    )


def _json_value(value: object) -> object:
    if value is None or value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, float) and np.isnan(value):
        return None
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value


def _gather(frame: pd.DataFrame, columns: list[str], rows: np.ndarray) -> list[object]:
    """``frame[columns[i]]`` at ``rows[i]`` for every i, one column at a time."""
    values: list[object] = [None] * len(rows)
    names = np.asarray(columns)
    for column in set(columns):
        where = np.flatnonzero(names == column)
        for i, value in zip(where.tolist(), frame[column].iloc[rows[where]].tolist(), strict=True):
            values[i] = value
    return values


def _collect(
    violations: dict[int, list[Violation]], rows: np.ndarray, fields: list[str], rules: list[str], values: list
) -> None:
    for row, field_path, rule, value in zip(rows.tolist(), fields, rules, values, strict=True):
        violations.setdefault(row, []).append(Violation(field_path, rule, RULES[rule].message, _json_value(value)))


def _record_violations(frame: pd.DataFrame, now: datetime, violations: dict[int, list[Violation]]) -> None:
    failures = rule_failures(record_schema(now), frame)
    if failures.empty:
        return
    rules = failures["check"].tolist()
    fields = [
        FRAME_CHECK_FIELDS.get(rule) or DERIVED_FIELDS.get(column, column)
        for rule, column in zip(rules, failures["column"], strict=True)
    ]
    rows = failures["row"].to_numpy()
    _collect(violations, rows, fields, rules, _gather(frame, fields, rows))


def _line_violations(
    lines: pa_arrow.Table, schema: pa.DataFrameSchema, list_name: str, violations: dict[int, list[Violation]]
) -> None:
    frame = line_frame(lines, schema)
    failures = rule_failures(schema, frame)
    if failures.empty:
        return
    line_rows = failures["row"].to_numpy()
    parents = lines.column("parent").to_numpy()[line_rows]
    numbers = lines.column("line_number").to_numpy()[line_rows] - 1
    columns_failed = failures["column"].tolist()
    fields = [f"service_details.{list_name}[{n}].{c}" for n, c in zip(numbers.tolist(), columns_failed, strict=True)]
    values = _gather(frame, columns_failed, line_rows)
    _collect(violations, parents, fields, failures["check"].tolist(), values)


def _violate(
    violations: dict[int, list[Violation]], rows: np.ndarray, field_path: str, rule: str, values: list[object]
) -> None:
    for row, value in zip(rows.tolist(), values, strict=True):
        violations.setdefault(row, []).append(Violation(field_path, rule, RULES[rule].message, value))


def _shown(values: pa_arrow.Array | pa_arrow.ChunkedArray) -> list[object]:
    """Refused values as the error store shows them: NaN and infinities as JSON cannot hold
    them, by name."""
    shown: list[object] = []
    for value in values.to_pylist():
        if isinstance(value, float) and not np.isfinite(value):
            value = "NaN" if np.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
        shown.append(value)
    return shown


def _violate_at(
    table: pa_arrow.Table, rows: np.ndarray, column: str, list_path: str | None, rule: str, violations: dict
) -> None:
    """Report ``rule`` for ``rows`` of a record table (``list_path`` None) or a line table,
    each with the value it refused."""
    values = _shown(table.column(column).take(pa_arrow.array(rows, pa_arrow.int64())))
    if list_path is None:
        _violate(violations, rows, column, rule, values)
        return
    parents = table.column("parent").to_numpy()[rows]
    numbers = table.column("line_number").to_numpy()[rows] - 1
    for parent, number, value in zip(parents.tolist(), numbers.tolist(), values, strict=True):
        field_path = f"{list_path}[{number}].{column}"
        violations.setdefault(parent, []).append(Violation(field_path, rule, RULES[rule].message, value))


def _rows(mask: pa_arrow.Array | pa_arrow.ChunkedArray) -> np.ndarray:
    return np.flatnonzero(pc.fill_null(mask, False).to_numpy(zero_copy_only=False))


def _finite_amounts(table: pa_arrow.Table, column: str, list_path: str | None, violations: dict) -> pa_arrow.Table:
    """Rows holding NaN or an infinity break ``non_finite_number``; the value becomes 0 (the
    row is rejected anyway) so that no other rule reports it again. Valid amounts are kept
    to 2 decimals (sen): every store downstream takes them as they are."""
    values = table.column(column)
    bad = pc.fill_null(pc.invert(pc.is_finite(values)), False)
    rows = _rows(bad)
    if len(rows):
        _violate_at(table, rows, column, list_path, "non_finite_number", violations)
        values = pc.if_else(bad, 0.0, values)
    # Rounding overflows near a double's limit: values that large are left as they are (they
    # are far past MAX_COST, so cost_too_large rejects the row).
    roundable = pc.fill_null(pc.less(pc.abs(values), ROUNDABLE), True)
    rounded = pc.round(pc.if_else(roundable, values, 0.0), 2)
    return table.set_column(table.schema.get_field_index(column), column, pc.if_else(roundable, rounded, values))


def _line_costs(parts: pa_arrow.Table) -> pa_arrow.ChunkedArray:
    """Each part line's quantity x unit cost."""
    # Quantities past 2**53 lose precision as floats; such rows are rejected, but must not fail the cast.
    quantity = pc.cast(parts.column("quantity"), pa_arrow.float64(), safe=False)
    return pc.multiply(quantity, parts.column("unit_cost"))


def _control_characters(table: pa_arrow.Table, list_path: str | None, violations: dict) -> None:
    for name in table.column_names:
        if pa_arrow.types.is_string(table.schema.field(name).type):
            rows = _rows(pc.match_substring_regex(table.column(name), CONTROL_CHARACTERS))
            if len(rows):
                _violate_at(table, rows, name, list_path, "control_character", violations)


def _structural_violations(
    flat: pa_arrow.Table, services: pa_arrow.Table, parts: pa_arrow.Table, control: bool, violations: dict
) -> tuple[pa_arrow.Table, pa_arrow.Table, pa_arrow.Table]:
    """What the contract refuses but pyarrow reads (NaN and infinities, too many lines and,
    when ``control``, control characters) and values past the bounds every store takes.
    Returns the tables with amounts made finite."""
    for column in (SERVICES, PARTS):
        lengths = pc.list_value_length(flat.column(column))
        rows = _rows(pc.greater(lengths, MAX_LINE_ITEMS))
        # The value shown is how many entries there were, not the entries themselves.
        _violate(
            violations, rows, column, "too_many_lines", _shown(lengths.take(pa_arrow.array(rows, pa_arrow.int64())))
        )
    if control:
        _control_characters(flat.drop_columns([SERVICES, PARTS]), None, violations)
        _control_characters(services, SERVICES, violations)
        _control_characters(parts, PARTS, violations)
    flat = _finite_amounts(flat, "service_details.total_cost", None, violations)
    services = _finite_amounts(services, "service_cost", SERVICES, violations)
    parts = _finite_amounts(parts, "unit_cost", PARTS, violations)
    for table, column, list_path, limit, rule in (
        (flat, "service_details.total_cost", None, MAX_COST, "cost_too_large"),
        (services, "service_cost", SERVICES, MAX_COST, "cost_too_large"),
        (parts, "unit_cost", PARTS, MAX_COST, "cost_too_large"),
        (parts, "quantity", PARTS, MAX_PART_QUANTITY, "quantity_too_large"),
    ):
        rows = _rows(pc.greater(table.column(column), limit))
        if len(rows):
            _violate_at(table, rows, column, list_path, rule, violations)
    # A line's cost is a cost too: the analytics tables hold it (and a record's parts total,
    # at most 1,000 such lines) exactly in DECIMAL(18,2).
    line_costs = parts.append_column("line_cost", _line_costs(parts))
    # Judged only where quantity and unit cost are each within their own limits: past them,
    # their own rule already says what is wrong.
    within = pc.and_(
        pc.less_equal(parts.column("quantity"), MAX_PART_QUANTITY), pc.less_equal(parts.column("unit_cost"), MAX_COST)
    )
    rows = _rows(pc.and_(within, pc.greater(line_costs.column("line_cost"), MAX_COST)))
    if len(rows):
        _violate_at(line_costs, rows, "line_cost", PARTS, "line_cost_too_large", violations)
    return flat, services, parts


def normalised(table: pa_arrow.Table) -> pa_arrow.Table:
    """The raw rows flattened (contract paths as column names), ids and dates trimmed, blank
    text made null, VINs upper-cased."""
    flat = table.flatten().flatten()
    for name in _TRIMMED_TEXT:
        flat = flat.set_column(flat.schema.get_field_index(name), name, _blank_to_null(flat.column(name)))
    vin = pc.utf8_upper(_blank_to_null(flat.column("vehicle.vin")))
    return flat.set_column(flat.schema.get_field_index("vehicle.vin"), "vehicle.vin", vin)


def record_frame(flat: pa_arrow.Table, forced_duplicates: np.ndarray | None = None) -> pd.DataFrame:
    """The frame ``rules.record_schema`` validates: the checked columns and derived ones."""
    checked = [
        "service_record_id",
        "dealer.dealer_id",
        "vehicle.vin",
        "vehicle.year",
        "vehicle.odometer_reading",
        "service_details.service_date",
        "service_details.total_cost",
    ]
    frame = flat.select(checked).to_pandas(types_mapper=_NULLABLE_INTS.get)
    utc = parse_service_dates(flat.column("service_details.service_date"))
    frame["service_datetime_utc"] = utc
    frame["max_model_year"] = (utc.dt.tz_convert(ZONES[DEFAULT_ZONE]).dt.year + 1).astype("Int64")
    forced = np.zeros(flat.num_rows, dtype=bool) if forced_duplicates is None else forced_duplicates
    frame[FORCED_DUPLICATE] = forced
    return frame


def line_frame(lines: pa_arrow.Table, schema: pa.DataFrameSchema) -> pd.DataFrame:
    """The frame a line schema validates, from ``line_table``."""
    columns = [c for c in schema.columns if c in lines.column_names]
    return lines.select(columns).to_pandas(types_mapper=_NULLABLE_INTS.get)


def clean(
    table: pa_arrow.Table,
    now: datetime,
    forced_duplicates: np.ndarray | None = None,
    check_control_characters: bool = True,
) -> CleanResult:
    """Validate and normalise rows of ``domain.raw_schema.RAW_SCHEMA``; ``now`` is aware.

    ``forced_duplicates`` (a boolean per row) marks rows known to be repeated later in the
    same file, beyond this batch. ``check_control_characters`` may be False when no text
    can hold one (the reader knows).
    """
    flat = normalised(table)
    n = flat.num_rows
    violations: dict[int, list[Violation]] = {}
    services, parts = line_table(flat, SERVICES), line_table(flat, PARTS)
    flat, services, parts = _structural_violations(flat, services, parts, check_control_characters, violations)
    frame = record_frame(flat, forced_duplicates)
    utc = frame["service_datetime_utc"]

    _record_violations(frame, now, violations)
    _line_violations(services, SERVICE_LINE_SCHEMA, "services_performed", violations)
    _line_violations(parts, PART_LINE_SCHEMA, "parts_used", violations)

    valid = np.ones(n, dtype=bool)
    valid[list(violations)] = False

    service_parent = services.column("parent").to_numpy()
    part_parent = parts.column("parent").to_numpy()
    service_cost = np.nan_to_num(services.column("service_cost").to_numpy(zero_copy_only=False))
    part_cost = np.nan_to_num(_line_costs(parts).to_numpy(False))
    services_total = np.bincount(service_parent, weights=service_cost, minlength=n)
    parts_total = np.bincount(part_parent, weights=part_cost, minlength=n)
    total = np.nan_to_num(flat.column("service_details.total_cost").to_numpy(zero_copy_only=False))
    mismatch = np.abs(total - services_total - parts_total) > COST_MISMATCH_TOLERANCE * np.abs(total)

    derived = {
        "service_datetime_utc": pa_arrow.array(utc, pa_arrow.timestamp("us", tz="UTC")),
        "dealer_timezone": zones_for_cities(flat.column("dealer.dealer_location")),
        "services_cost_total": pa_arrow.array(services_total),
        "parts_cost_total": pa_arrow.array(parts_total),
        "services_count": pa_arrow.array(np.bincount(service_parent, minlength=n), pa_arrow.int32()),
        "parts_count": pa_arrow.array(np.bincount(part_parent, minlength=n), pa_arrow.int32()),
        "cost_mismatch": pa_arrow.array(mismatch),
    }
    scalars = flat.drop_columns([SERVICES, PARTS])
    for name, values in derived.items():
        scalars = scalars.append_column(name, values)
    # Each line carries its record's identity (domain.record_identity): dealer and id.
    for name in ("service_record_id", "dealer.dealer_id"):
        values = flat.column(name)
        column = name.removeprefix("dealer.")
        services = services.append_column(column, values.take(services.column("parent")))
        parts = parts.append_column(column, values.take(parts.column("parent")))
    parts = parts.append_column("line_cost", pa_arrow.array(part_cost, pa_arrow.float64()))
    return CleanResult(
        scalars.filter(pa_arrow.array(valid)),
        services.filter(pa_arrow.array(valid[service_parent])),
        parts.filter(pa_arrow.array(valid[part_parent])),
        violations,
    )
