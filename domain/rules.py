"""The business rules a service record must pass, as pandera schemas over whole columns.

Each rule has a stable name (``domain.rule_catalog``, reported with every rejected row) and
the contract field it is about. The bounds that keep a value storable (``domain.limits``)
are checked on Arrow columns in ``domain.cleaning``. The frames validated here are built by
``domain.cleaning``; their column names are contract field paths, plus a few derived columns.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd
import pandera.pandas as pa

from domain.rule_catalog import MAX_ODOMETER_KM, MIN_YEAR, VIN_PATTERN
from domain.timezones import DEFAULT_ZONE, ZONES

EARLIEST_SERVICE_DATE = pd.Timestamp("2000-01-01")
FUTURE_TOLERANCE = timedelta(days=1)
COST_MISMATCH_TOLERANCE = 0.01

# Derived columns, and checks over the whole frame, are reported against the contract field
# they are about.
DERIVED_FIELDS = {"service_datetime_utc": "service_details.service_date"}
FRAME_CHECK_FIELDS = {
    "service_date_format": "service_details.service_date",
    "year_range": "vehicle.year",
    "duplicate_id": "service_record_id",
}
# A record's identity (domain.record_identity): the same id from two dealerships is no repeat.
IDENTITY = ("dealer.dealer_id", "service_record_id")
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
                        (
                            df[list(IDENTITY)].duplicated(keep="last")
                            & df["service_record_id"].notna()
                            & df["dealer.dealer_id"].notna()
                        )
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
