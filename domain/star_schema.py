"""The analytics star schema built from cleaned rows: one fact table and five dimensions.

Every table carries ``source_file`` and ``ingested_at`` so that analysts can keep the
newest version of a dimension row across files.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pandas as pd
import pyarrow as pa

from domain.cleaning import CleanResult
from domain.timezones import ZONES


@dataclass(frozen=True)
class FileContext:
    """Where a batch of rows came from: the raw object, its submission and ingestion time."""

    source_file: str
    submission_id: str
    ingested_at: datetime


def local_times(utc: pd.Series, zone_abbrev: pd.Series) -> pd.Series:
    """Wall-clock time (naive) in each row's own zone (WIB, WITA or WIT)."""
    local = pd.Series(pd.NaT, index=utc.index, dtype="datetime64[us]")
    for abbrev, zone in ZONES.items():
        mask = (zone_abbrev == abbrev).to_numpy()
        if mask.any():
            local[mask] = utc[mask].dt.tz_convert(zone).dt.tz_localize(None)
    return local


_TIMESTAMP_UTC = pa.timestamp("us", tz="UTC")
_CONTEXT_FIELDS = [("source_file", pa.string()), ("ingested_at", _TIMESTAMP_UTC)]

# Fixed schemas, so that every file of a table has the same columns and types even when a
# batch has a column that is all null.
TABLE_SCHEMAS: dict[str, pa.Schema] = {
    name: pa.schema(fields + _CONTEXT_FIELDS)
    for name, fields in {
        "fact_service_records": [
            ("service_record_id", pa.string()),
            ("submission_id", pa.string()),
            ("record_index", pa.int64()),
            ("dealer_id", pa.string()),
            ("vin", pa.string()),
            ("customer_id", pa.string()),
            ("service_datetime_utc", _TIMESTAMP_UTC),
            ("service_datetime_wib", pa.timestamp("us", tz=ZONES["WIB"])),
            ("service_datetime_local", pa.timestamp("us")),
            ("local_timezone", pa.string()),
            ("service_date_local", pa.date32()),
            ("odometer_reading", pa.int64()),
            ("total_cost", pa.float64()),
            ("services_cost_total", pa.float64()),
            ("parts_cost_total", pa.float64()),
            ("services_count", pa.int32()),
            ("parts_count", pa.int32()),
            ("cost_mismatch", pa.bool_()),
            ("service_advisor_name", pa.string()),
        ],
        "dim_dealer": [
            ("dealer_id", pa.string()),
            ("dealer_name", pa.string()),
            ("dealer_city", pa.string()),
            ("dealer_timezone", pa.string()),
        ],
        "dim_vehicle": [("vin", pa.string()), ("model", pa.string()), ("year", pa.int64())],
        "dim_customer": [("customer_id", pa.string()), ("customer_name", pa.string())],
        "dim_services_performed": [
            ("service_record_id", pa.string()),
            ("line_number", pa.int32()),
            ("service_code", pa.string()),
            ("service_name", pa.string()),
            ("service_cost", pa.float64()),
            ("technician_notes", pa.string()),
        ],
        "dim_parts_used": [
            ("service_record_id", pa.string()),
            ("line_number", pa.int32()),
            ("part_code", pa.string()),
            ("part_name", pa.string()),
            ("quantity", pa.int64()),
            ("unit_cost", pa.float64()),
            ("line_cost", pa.float64()),
        ],
    }.items()
}


def _to_table(name: str, frame: pd.DataFrame, context: FileContext) -> pa.Table:
    frame = frame.assign(source_file=context.source_file, ingested_at=pd.Timestamp(context.ingested_at))
    return pa.Table.from_pandas(frame, schema=TABLE_SCHEMAS[name], preserve_index=False)


def fact_frame(records: pd.DataFrame, context: FileContext) -> pd.DataFrame:
    """The fact table's columns for the valid records."""
    utc = records["service_datetime_utc"]
    local = local_times(utc, records["dealer_timezone"])
    return pd.DataFrame(
        {
            "service_record_id": records["service_record_id"],
            "submission_id": context.submission_id,
            "record_index": records["_record_index"].astype("int64"),
            "dealer_id": records["dealer.dealer_id"],
            "vin": records["vehicle.vin"],
            "customer_id": records["customer.customer_id"],
            "service_datetime_utc": utc,
            "service_datetime_wib": utc.dt.tz_convert(ZONES["WIB"]),
            "service_datetime_local": local,
            "local_timezone": records["dealer_timezone"],
            "service_date_local": local.dt.date,
            "odometer_reading": records["vehicle.odometer_reading"].astype("int64"),
            "total_cost": records["service_details.total_cost"],
            "services_cost_total": records["services_cost_total"],
            "parts_cost_total": records["parts_cost_total"],
            "services_count": records["services_count"].astype("int32"),
            "parts_count": records["parts_count"].astype("int32"),
            "cost_mismatch": records["cost_mismatch"].astype(bool),
            "service_advisor_name": records["service_details.service_advisor_name"],
        }
    )


def build_star_schema(result: CleanResult, context: FileContext) -> dict[str, pa.Table]:
    """The six tables, keyed by table name, for the valid rows of one batch."""
    records = result.records
    record_ids = records["service_record_id"]
    parent_ids = pd.Series(record_ids.to_numpy(), index=records.index)

    dealers = records[["dealer.dealer_id", "dealer.dealer_name", "dealer.dealer_location", "dealer_timezone"]]
    dealers = dealers.drop_duplicates("dealer.dealer_id", keep="last")
    dealers.columns = ["dealer_id", "dealer_name", "dealer_city", "dealer_timezone"]

    vehicles = records[["vehicle.vin", "vehicle.model", "vehicle.year"]].drop_duplicates("vehicle.vin", keep="last")
    vehicles.columns = ["vin", "model", "year"]

    customers = records[["customer.customer_id", "customer.customer_name"]]
    customers = customers[customers["customer.customer_id"].notna()]
    customers = customers.drop_duplicates("customer.customer_id", keep="last")
    customers.columns = ["customer_id", "customer_name"]

    services = result.services
    services = pd.DataFrame(
        {
            "service_record_id": parent_ids.reindex(services["parent"]).to_numpy(),
            "line_number": services["line_number"].astype("int32").to_numpy(),
            "service_code": services["service_code"].to_numpy(),
            "service_name": services["service_name"].to_numpy(),
            "service_cost": services["service_cost"].to_numpy(dtype=float),
            "technician_notes": services["technician_notes"].to_numpy(),
        }
    )
    parts = result.parts
    parts = pd.DataFrame(
        {
            "service_record_id": parent_ids.reindex(parts["parent"]).to_numpy(),
            "line_number": parts["line_number"].astype("int32").to_numpy(),
            "part_code": parts["part_code"].to_numpy(),
            "part_name": parts["part_name"].to_numpy(),
            "quantity": parts["quantity"].astype("int64").to_numpy(),
            "unit_cost": parts["unit_cost"].to_numpy(dtype=float),
            "line_cost": parts["line_cost"].to_numpy(dtype=float),
        }
    )
    frames = {
        "fact_service_records": fact_frame(records, context),
        "dim_dealer": dealers,
        "dim_vehicle": vehicles,
        "dim_customer": customers,
        "dim_services_performed": services,
        "dim_parts_used": parts,
    }
    return {name: _to_table(name, frame, context) for name, frame in frames.items()}


TABLES = tuple(TABLE_SCHEMAS)
