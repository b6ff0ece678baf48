"""The business rules a service record must pass, as pandera schemas over whole columns.

Each rule has a stable name (reported with every rejected row) and the contract field it
is about. The frames validated here are built by ``domain.cleaning``; their column names
are contract field paths, plus a few derived columns.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pandas as pd
import pandera.pandas as pa

from domain.timezones import DEFAULT_ZONE, ZONES

VIN_PATTERN = r"^[A-HJ-NPR-Z0-9]{17}$"
MIN_YEAR = 1950
MAX_ODOMETER_KM = 2_000_000
EARLIEST_SERVICE_DATE = pd.Timestamp("2000-01-01")
FUTURE_TOLERANCE = timedelta(days=1)
COST_MISMATCH_TOLERANCE = 0.01


@dataclass(frozen=True)
class Rule:
    name: str
    message: str


RULES: dict[str, Rule] = {
    rule.name: rule
    for rule in (
        Rule("required", "a required field is missing or empty"),
        Rule("vin_format", "VIN must be 17 characters of A-Z and 0-9 without I, O or Q"),
        Rule("year_range", f"model year must be from {MIN_YEAR} to the service year + 1"),
        Rule("odometer_range", f"odometer reading must be from 0 to {MAX_ODOMETER_KM:,} km"),
        Rule("non_negative_cost", "costs must not be negative"),
        Rule("quantity_positive", "part quantity must be at least 1"),
        Rule("service_date_format", "service_date is not an ISO-8601 date-time"),
        Rule("service_date_range", "service_date must be on or after 2000-01-01 and at most one day in the future"),
        Rule("duplicate_id", "service_record_id is repeated later in the same file; the last occurrence is kept"),
        Rule("malformed_json", "the line is not valid JSON"),
        Rule("not_an_object", "a record must be a JSON object"),
        Rule("wrong_type", "a field has the wrong type"),
    )
}

# Derived columns, and checks over the whole frame, are reported against the contract field
# they are about.
DERIVED_FIELDS = {"service_datetime_utc": "service_details.service_date"}
FRAME_CHECK_FIELDS = {
    "service_date_format": "service_details.service_date",
    "year_range": "vehicle.year",
    "duplicate_id": "service_record_id",
}
# A boolean column: rows known to be repeated later in the file, beyond the batch at hand.
FORCED_DUPLICATE = "forced_duplicate"

REQUIRED_RECORD_FIELDS = (
    "service_record_id",
    "dealer.dealer_id",
    "vehicle.vin",
    "service_details.service_date",
    "vehicle.odometer_reading",
    "service_details.total_cost",
)


def _check(name: str, fn) -> pa.Check:  # type: ignore[no-untyped-def]
    return pa.Check(fn, name=name)


def record_schema(now: datetime) -> pa.DataFrameSchema:
    """Rules for the record-level frame; ``now`` (time-zone aware) bounds service dates in the future."""
    latest = pd.Timestamp(now).tz_convert("UTC") + FUTURE_TOLERANCE
    earliest = EARLIEST_SERVICE_DATE.tz_localize(ZONES[DEFAULT_ZONE]).tz_convert("UTC")
    required = {name: pa.Column(nullable=False) for name in REQUIRED_RECORD_FIELDS}
    columns = {
        **required,
        "vehicle.vin": pa.Column(
            nullable=False,
            checks=_check("vin_format", lambda s: s.str.fullmatch(VIN_PATTERN).fillna(False).astype(bool)),
        ),
        "vehicle.odometer_reading": pa.Column(
            nullable=False,
            checks=_check("odometer_range", lambda s: s.between(0, MAX_ODOMETER_KM)),
        ),
        "service_details.total_cost": pa.Column(
            nullable=False,
            checks=_check("non_negative_cost", lambda s: s >= 0),
        ),
        "service_datetime_utc": pa.Column(
            nullable=True,
            checks=_check("service_date_range", lambda s: s.isna() | s.between(earliest, latest)),
        ),
    }
    return pa.DataFrameSchema(
        columns,
        checks=[
            _check(
                "duplicate_id",
                lambda df: (
                    ~(
                        (df["service_record_id"].duplicated(keep="last") & df["service_record_id"].notna())
                        | df[FORCED_DUPLICATE]
                    )
                ),
            ),
            _check(
                "service_date_format",
                lambda df: df["service_details.service_date"].isna() | df["service_datetime_utc"].notna(),
            ),
            _check(
                "year_range",
                lambda df: (
                    df["vehicle.year"].isna()
                    | df["vehicle.year"].between(MIN_YEAR, df["max_model_year"].fillna(df["vehicle.year"]))
                ),
            ),
        ],
        strict=False,
    )


SERVICE_LINE_SCHEMA = pa.DataFrameSchema(
    {
        "service_name": pa.Column(nullable=False),
        "service_cost": pa.Column(nullable=False, checks=_check("non_negative_cost", lambda s: s >= 0)),
    },
    strict=False,
)

PART_LINE_SCHEMA = pa.DataFrameSchema(
    {
        "part_name": pa.Column(nullable=False),
        "quantity": pa.Column(nullable=False, checks=_check("quantity_positive", lambda s: s >= 1)),
        "unit_cost": pa.Column(nullable=False, checks=_check("non_negative_cost", lambda s: s >= 0)),
    },
    strict=False,
)
