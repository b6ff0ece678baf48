"""The analyses behind the insights report, on the star-schema tables (pandas frames).

A record corrected by a later submission appears in the cleaned data once per version; every
analysis counts only its latest version (the greatest ``ingested_at``), with that version's
service and part lines. Dimension rows are taken at their latest version too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd

REPEAT_DAYS = 30
REPEAT_KM = 3_000


@dataclass(frozen=True)
class StarTables:
    """The cleaned star schema, every file's rows (all versions)."""

    fact: pd.DataFrame
    services: pd.DataFrame
    parts: pd.DataFrame
    vehicles: pd.DataFrame
    dealers: pd.DataFrame


IDENTITY = ["dealer_id", "service_record_id"]  # a record's identity (domain.record_identity)


def _latest(frame: pd.DataFrame, key: str | list[str]) -> pd.DataFrame:
    ordered = frame.sort_values(["ingested_at", "source_file"], kind="stable")
    return ordered.drop_duplicates(key, keep="last")


def latest_records(star: StarTables) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(fact, service lines, part lines) of each record's latest version."""
    fact = _latest(star.fact, IDENTITY)
    version = fact[[*IDENTITY, "source_file"]]
    services = star.services.merge(version, on=[*IDENTITY, "source_file"])
    parts = star.parts.merge(version, on=[*IDENTITY, "source_file"])
    return fact, services, parts


def in_period(star: StarTables, since: date | None, until: date | None) -> StarTables:
    """``star`` with each record at its latest version, then only those serviced (local date)
    from ``since`` to ``until``: a correction that moves a visit moves it between periods."""
    fact = _latest(star.fact, IDENTITY)
    kept = pd.Series(True, index=fact.index)
    if since is not None:
        kept &= fact["service_date_local"] >= since
    if until is not None:
        kept &= fact["service_date_local"] <= until
    return StarTables(fact[kept], star.services, star.parts, star.vehicles, star.dealers)


def _vehicles(star: StarTables) -> pd.DataFrame:
    return _latest(star.vehicles, "vin")[["vin", "model", "year"]]


def frequent_services(star: StarTables) -> pd.DataFrame:
    """How often each service was performed, by vehicle model and model year."""
    fact, services, _ = latest_records(star)
    lines = services.merge(fact[[*IDENTITY, "vin"]], on=IDENTITY).merge(_vehicles(star), on="vin")
    counted = lines.groupby(["model", "year", "service_name"], dropna=False).size().rename("services").reset_index()
    return counted.sort_values(["services", "model", "year", "service_name"], ascending=[False, True, True, True])


def part_usage_by_month(star: StarTables) -> pd.DataFrame:
    """Quantity of each part used per month of service (local date)."""
    fact, _, parts = latest_records(star)
    lines = parts.merge(fact[[*IDENTITY, "service_date_local"]], on=IDENTITY)
    lines["month"] = pd.to_datetime(lines["service_date_local"]).dt.strftime("%Y-%m")
    used = lines.groupby(["month", "part_code", "part_name"], dropna=False)["quantity"].sum().rename("quantity")
    return used.reset_index().sort_values(["month", "quantity", "part_name"], ascending=[True, False, True])


def cost_by_dealer(star: StarTables) -> pd.DataFrame:
    """Services, mean and median cost per service (IDR), per dealer and city."""
    fact, _, _ = latest_records(star)
    dealers = _latest(star.dealers, "dealer_id")[["dealer_id", "dealer_name", "dealer_location"]]
    costs = fact.merge(dealers, on="dealer_id", how="left").rename(columns={"dealer_location": "city"})
    summary = costs.groupby(["dealer_id", "dealer_name", "city"], dropna=False)["total_cost"].agg(
        services="count", mean_cost="mean", median_cost="median", total_cost="sum"
    )
    return summary.reset_index().sort_values(["city", "dealer_id"])


def repeat_repairs(star: StarTables, days: int = REPEAT_DAYS, km: int = REPEAT_KM) -> pd.DataFrame:
    """The same service on the same VIN again within ``days`` and ``km`` of the previous one:
    a quality and warranty signal. One row per repeat, with the visit it repeats."""
    fact, services, _ = latest_records(star)
    visits = services[[*IDENTITY, "service_code", "service_name"]].merge(
        fact[[*IDENTITY, "vin", "service_datetime_utc", "odometer_reading"]], on=IDENTITY
    )
    visits = visits.dropna(subset=["service_code"]).drop_duplicates([*IDENTITY, "service_code"])
    visits = visits.sort_values(["vin", "service_code", "service_datetime_utc", *IDENTITY])
    previous = visits.groupby(["vin", "service_code"]).shift(1)
    visits["previous_record_id"] = previous["service_record_id"]
    visits["previous_dealer_id"] = previous["dealer_id"]
    visits["days_apart"] = (
        visits["service_datetime_utc"] - previous["service_datetime_utc"]
    ).dt.total_seconds() / 86400
    visits["km_apart"] = visits["odometer_reading"] - previous["odometer_reading"]
    repeats = visits[
        visits["previous_record_id"].notna() & (visits["days_apart"] <= days) & (visits["km_apart"].abs() <= km)
    ]
    columns = [
        "vin",
        "service_code",
        "service_name",
        "previous_dealer_id",
        "previous_record_id",
        "dealer_id",
        "service_record_id",
    ]
    out = repeats[[*columns, "days_apart", "km_apart"]].copy()
    out["days_apart"] = out["days_apart"].round(1)
    return out.reset_index(drop=True)


def odometer_at_repair(star: StarTables) -> pd.DataFrame:
    """Mean odometer (km) at each service, per vehicle model."""
    fact, services, _ = latest_records(star)
    lines = services.merge(fact[[*IDENTITY, "vin", "odometer_reading"]], on=IDENTITY).merge(_vehicles(star), on="vin")
    summary = lines.groupby(["model", "service_name"], dropna=False)["odometer_reading"].agg(
        services="count", mean_odometer_km="mean"
    )
    summary["mean_odometer_km"] = summary["mean_odometer_km"].round(0)
    return summary.reset_index().sort_values(["model", "mean_odometer_km"])


def rejection_rates(fact: pd.DataFrame, rejected: pd.DataFrame) -> pd.DataFrame:
    """Rows rejected per dealer and rule against all rows that dealer sent (every version
    counted: this is about what arrived). ``fact`` and ``rejected`` come from the same files;
    ``rejected`` has one row per (rejected row, rule) with ``dealer_id`` (as cleaning reads it,
    null when the row had none) and ``row`` (a row's identity)."""
    valid = fact.groupby("dealer_id").size().rename("valid_rows")
    rows = rejected.drop_duplicates("row").groupby("dealer_id", dropna=False).size().rename("rejected_rows")
    totals = pd.concat([valid, rows], axis=1).fillna(0).astype(int)
    totals["rows"] = totals["valid_rows"] + totals["rejected_rows"]
    by_rule = rejected.groupby(["dealer_id", "rule"], dropna=False).size().rename("rejected").reset_index()
    # A key of only missing dealer ids comes out of groupby as float NaN: merge on objects.
    by_rule["dealer_id"] = by_rule["dealer_id"].astype(object)
    totals.index = totals.index.astype(object)
    merged = by_rule.merge(totals, left_on="dealer_id", right_index=True, how="left")
    merged["rate"] = (merged["rejected"] / merged["rows"]).round(4)
    return merged[["dealer_id", "rule", "rejected", "rows", "rate"]].sort_values(
        ["rate", "dealer_id", "rule"], ascending=[False, True, True]
    )
