"""Sample data that behaves like a fleet: cars come back, later runs bring later visits, parts
come in the quantities one job takes."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timezone

import pytest

from entrypoints.sample_data import COMEBACK, generate_records

NOW = datetime(2026, 12, 3, tzinfo=timezone.utc)


def visits(period: int, count: int = 800, seed: int = 42) -> list[dict]:
    return list(generate_records(count, bad_fraction=0, seed=seed, now=NOW, id_prefix=f"P{period}", period=period))


def when(record: dict) -> datetime:
    text = record["service_details"]["service_date"][:19]
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


def by_vin(records: list[dict]) -> dict[str, list[dict]]:
    found: dict[str, list[dict]] = defaultdict(list)
    for record in records:
        found[record["vehicle"]["vin"]].append(record)
    return found


def test_cars_come_back_and_their_odometers_only_grow() -> None:
    cars = by_vin(visits(0))
    assert len(cars) < 800 / 2  # most cars are seen several times in a year
    for history in cars.values():
        odometers = [r["vehicle"]["odometer_reading"] for r in sorted(history, key=when)]
        assert odometers == sorted(odometers)
        owners = {(r["customer"]["customer_id"], r["vehicle"]["model"], r["vehicle"]["year"]) for r in history}
        assert len(owners) == 1  # one owner, one model and year per VIN


def test_the_next_period_is_the_same_cars_later_and_the_one_after_is_new_cars() -> None:
    first, second, third = visits(0), visits(1), visits(2)
    assert max(map(when, first)) < min(map(when, second)) and max(map(when, second)) <= NOW
    earlier, later = by_vin(first), by_vin(second)
    shared = set(earlier) & set(later)
    assert len(shared) > 0.9 * len(later)  # the same fleet, a year on
    for vin in shared:
        last = max(r["vehicle"]["odometer_reading"] for r in earlier[vin])
        assert min(r["vehicle"]["odometer_reading"] for r in later[vin]) >= last
    assert not set(by_vin(third)) & (set(earlier) | set(later))  # new cars, not the same visits again


def test_some_visits_come_back_for_the_same_repair_within_days() -> None:
    repeats = 0
    for history in by_vin(visits(0, 2_000)).values():
        ordered = sorted(history, key=when)
        for before, after in zip(ordered, ordered[1:], strict=False):
            days = (when(after) - when(before)).total_seconds() / 86_400
            km = after["vehicle"]["odometer_reading"] - before["vehicle"]["odometer_reading"]
            codes = {s["service_code"] for s in before["service_details"]["services_performed"]}
            if (
                days <= 30
                and km <= 3_000
                and codes & {s["service_code"] for s in after["service_details"]["services_performed"]}
            ):
                repeats += 1
    assert 0.5 * COMEBACK * 2_000 <= repeats <= 3 * COMEBACK * 2_000  # some, not one in six


def test_each_part_comes_in_the_quantity_one_job_takes_and_with_its_service() -> None:
    quantities: dict[str, set[int]] = defaultdict(set)
    for record in visits(0):
        details = record["service_details"]
        services = {s["service_code"] for s in details["services_performed"]}
        parts = {p["part_code"] for p in details["parts_used"]}
        for part in details["parts_used"]:
            quantities[part["part_code"]].add(part["quantity"])
        if "SRV-BAT" in services:
            assert "PRT-BAT" in parts
        if "SRV-OIL" in services:
            assert {"PRT-OIL-4L", "PRT-FLT-OIL"} <= parts
    assert quantities["PRT-BAT"] == {1} and quantities["PRT-OIL-4L"] == {1}
    assert quantities["PRT-SPK"] == {4} and quantities["PRT-WPR"] == {2}


def test_ids_are_unique_in_a_run_and_the_content_repeats_with_the_seed() -> None:
    first = visits(0)
    assert len({r["service_record_id"] for r in first}) == len(first)
    again = list(generate_records(800, bad_fraction=0, seed=42, now=NOW, id_prefix="other", period=0))
    assert [{**r, "service_record_id": ""} for r in again] == [{**r, "service_record_id": ""} for r in first]


@pytest.mark.parametrize("count", [0, 1, 2, 3, 7, 100, 1_000, 15_000])
def test_it_gives_exactly_the_records_asked_for(count) -> None:
    """Comebacks are part of the count: 15,000 once gave 14,983."""
    assert sum(1 for _ in generate_records(count, seed=3, now=NOW)) == count
