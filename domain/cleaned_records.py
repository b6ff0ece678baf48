"""Cleaned, typed nested records (one JSON object per valid row) for the record database."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa

from domain.cleaning import CleanResult


def _struct(fields: dict[str, pa.Array]) -> pa.StructArray:
    return pa.StructArray.from_arrays(list(fields.values()), names=list(fields))


def _offsets(counts: pd.Series) -> pa.Array:
    return pa.array([0, *counts.astype("int64").cumsum().tolist()], pa.int32())


def _lists(values: pa.Table, counts: pd.Series) -> pa.ListArray:
    offsets = _offsets(counts)
    columns = {name: values.column(name).combine_chunks() for name in values.column_names}
    return pa.ListArray.from_arrays(offsets, _struct(columns))


def _flags(cost_mismatch: pd.Series) -> pa.ListArray:
    counts = cost_mismatch.astype("int32")
    values = pa.array(["cost_mismatch"] * int(counts.sum()), pa.string())
    return pa.ListArray.from_arrays(_offsets(counts), values)


def cleaned_record_table(result: CleanResult, star: dict[str, pa.Table]) -> pa.Table:
    """One row per valid record, nested like the public contract, with cleaned values.

    ``star`` is ``build_star_schema`` of the same result. Top-level ``vin`` and
    ``service_date`` (UTC) feed the vehicle-history index.
    """
    fact = star["fact_service_records"]
    records = result.records
    services = star["dim_services_performed"].select(
        ["service_code", "service_name", "service_cost", "technician_notes"]
    )
    parts = star["dim_parts_used"].select(["part_code", "part_name", "quantity", "unit_cost"])

    def col(frame: pd.DataFrame, name: str, type_: pa.DataType) -> pa.Array:
        return pa.array(frame[name], type=type_, from_pandas=True)

    return pa.table(
        {
            "service_record_id": fact.column("service_record_id"),
            "vin": fact.column("vin"),
            "service_date": fact.column("service_datetime_utc"),
            "dealer_id": fact.column("dealer_id"),
            "dealer": _struct(
                {
                    "dealer_id": col(records, "dealer.dealer_id", pa.string()),
                    "dealer_name": col(records, "dealer.dealer_name", pa.string()),
                    "dealer_location": col(records, "dealer.dealer_location", pa.string()),
                    "timezone": col(records, "dealer_timezone", pa.string()),
                }
            ),
            "vehicle": _struct(
                {
                    "vin": col(records, "vehicle.vin", pa.string()),
                    "model": col(records, "vehicle.model", pa.string()),
                    "year": col(records, "vehicle.year", pa.int64()),
                    "odometer_reading": col(records, "vehicle.odometer_reading", pa.int64()),
                }
            ),
            "service_details": _struct(
                {
                    "service_date": fact.column("service_datetime_utc").combine_chunks(),
                    "service_advisor_name": col(records, "service_details.service_advisor_name", pa.string()),
                    "total_cost": col(records, "service_details.total_cost", pa.float64()),
                    "services_performed": _lists(services, records["services_count"]),
                    "parts_used": _lists(parts, records["parts_count"]),
                }
            ),
            "customer": _struct(
                {
                    "customer_id": col(records, "customer.customer_id", pa.string()),
                    "customer_name": col(records, "customer.customer_name", pa.string()),
                }
            ),
            "quality_flags": _flags(records["cost_mismatch"]),
            "record_index": fact.column("record_index"),
            "submission_id": fact.column("submission_id"),
            "source_file": fact.column("source_file"),
            "ingested_at": fact.column("ingested_at"),
        }
    )
