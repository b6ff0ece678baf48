"""The analytics star schema built from cleaned rows: one fact table and five dimensions.

Every table carries ``source_file`` and ``ingested_at`` so that analysts can keep the
newest version of a dimension row across files.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from domain.cleaning import CleanResult
from domain.timezones import ZONES


@dataclass(frozen=True)
class FileContext:
    """Where a batch of rows came from: the raw object, its submission and ingestion time."""

    source_file: str
    submission_id: str
    ingested_at: datetime


# An instant: Parquet's timestamp "adjusted to UTC", Athena's (and Iceberg's) timestamp with
# zone semantics, shown in UTC.
_TIMESTAMP_UTC = pa.timestamp("us", tz="UTC")
# A wall-clock time with no zone (not adjusted to UTC): the zone is in the column's name, or,
# for ``service_datetime_local``, in ``local_timezone``.
_WALL_CLOCK = pa.timestamp("us")
# Money, in IDR to the sen: exact, and wide enough for any amount the rules accept (a cost, a
# part line and a record's parts total are at most 1e12, 1e12 and 1,000 lines of 1e12 IDR).
MONEY = pa.decimal128(18, 2)
_CONTEXT_FIELDS = [
    pa.field("source_file", pa.string(), nullable=False),
    pa.field("ingested_at", _TIMESTAMP_UTC, nullable=False),
]


def _key(name: str, type_: pa.DataType) -> pa.Field:
    """A column every row has: an identity or a value every valid row holds by the rules."""
    return pa.field(name, type_, nullable=False)


# Fixed schemas, so that every file of a table has the same columns and types even when a
# batch has a column that is all null.
TABLE_SCHEMAS: dict[str, pa.Schema] = {
    name: pa.schema(fields + _CONTEXT_FIELDS)
    for name, fields in {
        "fact_service_records": [
            _key("service_record_id", pa.string()),
            _key("submission_id", pa.string()),
            _key("record_index", pa.int64()),
            _key("dealer_id", pa.string()),
            _key("vin", pa.string()),
            ("customer_id", pa.string()),
            _key("service_datetime_utc", _TIMESTAMP_UTC),
            _key("service_datetime_wib", _WALL_CLOCK),
            _key("service_datetime_local", _WALL_CLOCK),
            _key("local_timezone", pa.string()),
            _key("service_date_local", pa.date32()),
            ("odometer_reading", pa.int64()),
            ("total_cost", MONEY),
            ("services_cost_total", MONEY),
            ("parts_cost_total", MONEY),
            ("services_count", pa.int32()),
            ("parts_count", pa.int32()),
            ("cost_mismatch", pa.bool_()),
            ("service_advisor_name", pa.string()),
        ],
        "dim_dealer": [
            _key("dealer_id", pa.string()),
            ("dealer_name", pa.string()),
            ("dealer_location", pa.string()),  # the original design's name: its queries keep working
            ("dealer_timezone", pa.string()),
        ],
        "dim_vehicle": [_key("vin", pa.string()), ("model", pa.string()), ("year", pa.int64())],
        # A customer id is the dealership's own: CUST-7 of two dealerships is two people.
        "dim_customer": [
            _key("dealer_id", pa.string()),
            _key("customer_id", pa.string()),
            ("customer_name", pa.string()),
        ],
        "dim_services_performed": [
            _key("service_record_id", pa.string()),
            _key("dealer_id", pa.string()),
            _key("line_number", pa.int32()),
            ("service_code", pa.string()),
            ("service_name", pa.string()),
            ("service_cost", MONEY),
            ("technician_notes", pa.string()),
        ],
        "dim_parts_used": [
            _key("service_record_id", pa.string()),
            _key("dealer_id", pa.string()),
            _key("line_number", pa.int32()),
            ("part_code", pa.string()),
            ("part_name", pa.string()),
            ("quantity", pa.int64()),
            ("unit_cost", MONEY),
            ("line_cost", MONEY),
        ],
    }.items()
}
TABLES = tuple(TABLE_SCHEMAS)
# Each dimension's key: the columns that name one of its rows.
DIMENSION_KEYS: dict[str, tuple[str, ...]] = {
    "dim_dealer": ("dealer_id",),
    "dim_vehicle": ("vin",),
    "dim_customer": ("dealer_id", "customer_id"),
}

# Star-schema column <- cleaned column, per table (the context columns are added for all).
_SOURCES = {
    "fact_service_records": {
        "service_record_id": "service_record_id",
        "record_index": "_record_index",
        "dealer_id": "dealer.dealer_id",
        "vin": "vehicle.vin",
        "customer_id": "customer.customer_id",
        "service_datetime_utc": "service_datetime_utc",
        "local_timezone": "dealer_timezone",
        "odometer_reading": "vehicle.odometer_reading",
        "total_cost": "service_details.total_cost",
        "services_cost_total": "services_cost_total",
        "parts_cost_total": "parts_cost_total",
        "services_count": "services_count",
        "parts_count": "parts_count",
        "cost_mismatch": "cost_mismatch",
        "service_advisor_name": "service_details.service_advisor_name",
    },
    "dim_dealer": {
        "dealer_id": "dealer.dealer_id",
        "dealer_name": "dealer.dealer_name",
        "dealer_location": "dealer.dealer_location",
        "dealer_timezone": "dealer_timezone",
    },
    "dim_vehicle": {"vin": "vehicle.vin", "model": "vehicle.model", "year": "vehicle.year"},
    "dim_customer": {
        "dealer_id": "dealer.dealer_id",
        "customer_id": "customer.customer_id",
        "customer_name": "customer.customer_name",
    },
}


def local_times(utc: pa.Array, zone_abbrev: pa.Array) -> pa.Array:
    """Wall-clock time (naive) in each row's own zone (WIB, WITA or WIT)."""
    local = pa.nulls(len(utc), pa.timestamp("us"))
    for abbrev, zone in ZONES.items():
        in_zone = pc.local_timestamp(utc.cast(pa.timestamp("us", tz=zone)))
        local = pc.if_else(pc.equal(zone_abbrev, abbrev), in_zone, local)
    return local


def last_per_key(table: pa.Table, key: tuple[str, ...]) -> pa.Table:
    """The last row of each key (its columns all set), in the order the keys last appear."""
    if not table.num_rows:
        return table
    names = [f"key{i}" for i in range(len(key))]
    rows = pa.table({**dict(zip(names, (table.column(c) for c in key), strict=True)), "row": np.arange(table.num_rows)})
    last = rows.group_by(names, use_threads=False).aggregate([("row", "max")])
    for name in names:
        last = last.filter(pc.is_valid(last.column(name)))
    return table.take(np.sort(last.column("row_max").to_numpy()))


CONTEXT_COLUMNS = [field.name for field in _CONTEXT_FIELDS]


def _with_context(name: str, columns: dict[str, pa.Array], rows: int, context: FileContext) -> pa.Table:
    columns["source_file"] = pa.repeat(pa.scalar(context.source_file, pa.string()), rows)
    columns["ingested_at"] = pa.repeat(pa.scalar(pd.Timestamp(context.ingested_at), _TIMESTAMP_UTC), rows)
    schema = TABLE_SCHEMAS[name]
    for field in schema:
        if field.type == MONEY and pa.types.is_integer(columns[field.name].type):
            # Whole amounts read as integers: an int64 may exceed 18 digits, so Arrow casts
            # only through a wider decimal (the value is checked on the way to 18 digits).
            columns[field.name] = columns[field.name].cast(pa.decimal128(38, 2))
    return pa.table({f.name: columns[f.name] for f in schema}).cast(schema)


def with_context(name: str, table: pa.Table, context: FileContext) -> pa.Table:
    """A table of ``name`` without its context columns, given them for ``context``."""
    columns = {column: table.column(column) for column in table.column_names}
    return _with_context(name, columns, table.num_rows, context)


def _table(name: str, records: pa.Table, context: FileContext, extra: dict[str, pa.Array] | None = None) -> pa.Table:
    columns = {target: records.column(source) for target, source in _SOURCES[name].items()}
    columns.update(extra or {})
    return _with_context(name, columns, records.num_rows, context)


def build_star_schema(result: CleanResult, context: FileContext) -> dict[str, pa.Table]:
    """The six tables, keyed by table name, for the valid rows of one batch.

    Dimension tables hold each key once (its last row in the batch).
    """
    records = result.records
    utc = records.column("service_datetime_utc").combine_chunks()
    zone = records.column("dealer_timezone").combine_chunks()
    local = local_times(utc, zone)
    fact = _table(
        "fact_service_records",
        records,
        context,
        {
            "submission_id": pa.repeat(pa.scalar(context.submission_id, pa.string()), records.num_rows),
            "service_datetime_wib": pc.local_timestamp(utc.cast(pa.timestamp("us", tz=ZONES["WIB"]))),
            "service_datetime_local": local,
            "service_date_local": local.cast(pa.date32()),
        },
    )
    tables = {"fact_service_records": fact}
    for name, key in DIMENSION_KEYS.items():
        keyed = records
        for column in key:  # no customer, no row
            keyed = keyed.filter(pc.is_valid(keyed.column(_SOURCES[name][column])))
        tables[name] = last_per_key(_table(name, keyed, context), key)
    for name, lines in (("dim_services_performed", result.services), ("dim_parts_used", result.parts)):
        columns = {f.name: lines.column(f.name) for f in TABLE_SCHEMAS[name] if f.name in lines.column_names}
        tables[name] = _with_context(name, columns, lines.num_rows, context)
    return {name: tables[name] for name in TABLES}
