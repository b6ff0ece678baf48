"""The Arrow schema of the record contract, used to read raw files column by column.

It mirrors ``domain.contract``; fields not named here are ignored when reading.
"""

from __future__ import annotations

import pyarrow as pa

SERVICE_FIELDS = pa.struct(
    [
        ("service_code", pa.string()),
        ("service_name", pa.string()),
        ("service_cost", pa.float64()),
        ("technician_notes", pa.string()),
    ]
)
PART_FIELDS = pa.struct(
    [
        ("part_code", pa.string()),
        ("part_name", pa.string()),
        ("quantity", pa.int64()),
        ("unit_cost", pa.float64()),
    ]
)

RAW_SCHEMA = pa.schema(
    [
        ("service_record_id", pa.string()),
        (
            "dealer",
            pa.struct([("dealer_id", pa.string()), ("dealer_name", pa.string()), ("dealer_location", pa.string())]),
        ),
        (
            "vehicle",
            pa.struct(
                [
                    ("vin", pa.string()),
                    ("model", pa.string()),
                    ("year", pa.int64()),
                    ("odometer_reading", pa.int64()),
                ]
            ),
        ),
        (
            "service_details",
            pa.struct(
                [
                    ("service_date", pa.string()),
                    ("service_advisor_name", pa.string()),
                    ("total_cost", pa.float64()),
                    ("services_performed", pa.list_(SERVICE_FIELDS)),
                    ("parts_used", pa.list_(PART_FIELDS)),
                ]
            ),
        ),
        ("customer", pa.struct([("customer_id", pa.string()), ("customer_name", pa.string())])),
    ]
)
