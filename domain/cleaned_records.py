"""Cleaned, typed nested records (one per valid row) for the record database."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from domain.cleaning import CleanResult


def _struct(fields: dict[str, pa.Array]) -> pa.StructArray:
    return pa.StructArray.from_arrays(list(fields.values()), names=list(fields))


def _lists(counts: pa.Array, values: pa.Array) -> pa.ListArray:
    offsets = pa.concat_arrays([pa.array([0], pa.int32()), pc.cumulative_sum(counts).cast(pa.int32())])
    return pa.ListArray.from_arrays(offsets, values)


def _utc_text(values: pa.Array, unit: str) -> pa.Array:
    """ISO-8601 text in UTC with a 'Z': '2026-11-20T03:30:00Z', or with 6 decimals for 'us'."""
    # Via a zone-less timestamp: Arrow formats those far faster than zoned ones or strftime.
    naive = pc.cast(pc.cast(values, pa.timestamp(unit, tz="UTC"), safe=False), pa.timestamp(unit))
    text = pc.replace_substring(pc.cast(naive, pa.string()), " ", "T", max_replacements=1)
    return pc.binary_join_element_wise(text, "Z", "")


def _column(table: pa.Table, name: str) -> pa.Array:
    return table.column(name).combine_chunks()


def cleaned_record_table(result: CleanResult, star: dict[str, pa.Table]) -> pa.Table:
    """One row per valid record, nested like the public contract, with cleaned values.

    ``star`` is ``build_star_schema`` of the same result. Top-level ``vin`` and
    ``service_date`` (UTC) feed the vehicle-history index.
    """
    fact, records = star["fact_service_records"], result.records
    # Text of one fixed width (whole seconds, UTC), so that the vehicle-history index sorts
    # by time; ingestion times keep their microseconds, which decide newer-wins.
    service_date = _utc_text(_column(fact, "service_datetime_utc"), "s")
    ingested_at = _utc_text(_column(fact, "ingested_at"), "us")

    def col(name: str) -> pa.Array:
        return _column(records, name)

    # The lines as cleaned (costs as JSON numbers), in the star schema's order of lines.
    services, parts = result.services, result.parts
    service_lines = _struct(
        {n: _column(services, n) for n in ("service_code", "service_name", "service_cost", "technician_notes")}
    )
    part_lines = _struct({n: _column(parts, n) for n in ("part_code", "part_name", "quantity", "unit_cost")})
    mismatch = col("cost_mismatch")
    flags = _lists(mismatch.cast(pa.int32()), pa.repeat(pa.scalar("cost_mismatch"), pc.sum(mismatch).as_py() or 0))
    return pa.table(
        {
            "service_record_id": fact.column("service_record_id"),
            "vin": fact.column("vin"),
            "service_date": service_date,
            "dealer_id": fact.column("dealer_id"),
            "dealer": _struct(
                {
                    "dealer_id": col("dealer.dealer_id"),
                    "dealer_name": col("dealer.dealer_name"),
                    "dealer_location": col("dealer.dealer_location"),
                    "timezone": col("dealer_timezone"),
                }
            ),
            "vehicle": _struct(
                {
                    "vin": col("vehicle.vin"),
                    "model": col("vehicle.model"),
                    "year": col("vehicle.year"),
                    "odometer_reading": col("vehicle.odometer_reading"),
                }
            ),
            "service_details": _struct(
                {
                    "service_date": service_date,
                    "service_advisor_name": col("service_details.service_advisor_name"),
                    "total_cost": col("service_details.total_cost"),
                    "services_performed": _lists(col("services_count"), service_lines),
                    "parts_used": _lists(col("parts_count"), part_lines),
                }
            ),
            "customer": _struct(
                {"customer_id": col("customer.customer_id"), "customer_name": col("customer.customer_name")}
            ),
            "quality_flags": flags,
            "record_index": fact.column("record_index"),
            "submission_id": fact.column("submission_id"),
            "source_file": fact.column("source_file"),
            "ingested_at": ingested_at,
        }
    )
