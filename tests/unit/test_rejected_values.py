"""Every rejection names the value it refused, at the boundary of each limit: the last value
accepted goes through, the first refused is shown as sent."""

from __future__ import annotations

import json

import orjson
import pytest

from adapters.local.in_memory import FixedClock, InMemoryObjectStore
from application.processing.process_raw_file import ProcessRawFile
from domain.limits import MAX_COST, MAX_LINE_ITEMS, MAX_PART_QUANTITY
from tests.factories import NOW, a_record

KEY = "service-records/date=2026-11-25/12-00-00_sub-1.json"
META = {"submission-id": "sub-1", "ingested-at": "2026-11-25T12:00:00+00:00"}


def errors_of(record: dict) -> list[dict]:
    raw, cleaned, errors = InMemoryObjectStore(), InMemoryObjectStore(), InMemoryObjectStore()
    raw.put_bytes(KEY, json.dumps([record]).encode(), META)  # json: NaN and Infinity as sent
    ProcessRawFile(raw, cleaned, errors, FixedClock(NOW))(KEY)
    lines = errors.objects.get("rejected/date=2026-11-25/12-00-00_sub-1.json.jsonl", b"").splitlines()
    return [e for line in lines for e in orjson.loads(line)["errors"]]


OK_TOTAL = {"service_details.total_cost": MAX_COST, "service_details.services_performed": []}
PARTS = "service_details.parts_used"


@pytest.mark.parametrize(
    ("changes", "field", "rule", "value"),
    [
        ({"service_details.total_cost": MAX_COST + 1}, "service_details.total_cost", "cost_too_large", MAX_COST + 1),
        (
            {"service_details.services_performed.0.service_cost": MAX_COST + 0.01},
            "service_details.services_performed[0].service_cost",
            "cost_too_large",
            MAX_COST + 0.01,
        ),
        ({f"{PARTS}.1.unit_cost": 2e12}, f"{PARTS}[1].unit_cost", "cost_too_large", 2e12),
        ({f"{PARTS}.0.quantity": MAX_PART_QUANTITY + 1}, f"{PARTS}[0].quantity", "quantity_too_large", 100_001),
        (
            {f"{PARTS}.0.quantity": 2, f"{PARTS}.0.unit_cost": MAX_COST / 2 + 0.01},
            f"{PARTS}[0].line_cost",
            "line_cost_too_large",
            2 * (MAX_COST / 2 + 0.01),
        ),
        ({"service_details.total_cost": float("nan")}, "service_details.total_cost", "non_finite_number", "NaN"),
        ({f"{PARTS}.0.unit_cost": float("-inf")}, f"{PARTS}[0].unit_cost", "non_finite_number", "-Infinity"),
        ({"vehicle.model": "Avanza\u0007"}, "vehicle.model", "control_character", "Avanza\u0007"),
    ],
)
def test_each_rejection_names_the_value_it_refused(changes, field, rule, value) -> None:
    found = [(e["field"], e["rule"], e["value"]) for e in errors_of(a_record("SR-1", changes))]
    assert (field, rule, value) in found


def test_too_many_lines_shows_how_many_there_were() -> None:
    line = {"service_name": "Ganti oli", "service_cost": 0}
    found = errors_of(a_record("SR-1", {"service_details.services_performed": [line] * (MAX_LINE_ITEMS + 1)}))
    assert ("service_details.services_performed", "too_many_lines", MAX_LINE_ITEMS + 1) in [
        (e["field"], e["rule"], e["value"]) for e in found
    ]


@pytest.mark.parametrize(
    "changes",
    [
        {"service_details.total_cost": MAX_COST, "service_details.services_performed.0.service_cost": MAX_COST},
        {f"{PARTS}.0.quantity": MAX_PART_QUANTITY},
        {f"{PARTS}.0.quantity": 2, f"{PARTS}.0.unit_cost": MAX_COST / 2},  # a line of exactly MAX_COST
        {"service_details.services_performed": [{"service_name": "x", "service_cost": 0}] * MAX_LINE_ITEMS},
    ],
)
def test_the_last_value_accepted_at_each_limit(changes) -> None:
    assert [e["rule"] for e in errors_of(a_record("SR-1", changes)) if e["rule"] != "cost_mismatch"] == []


def test_the_line_cost_rule_is_named_and_says_what_to_do() -> None:
    changes = {f"{PARTS}.0.quantity": 4, f"{PARTS}.0.unit_cost": MAX_COST}
    (error,) = [e for e in errors_of(a_record("SR-1", changes)) if e["rule"] == "line_cost_too_large"]
    assert error["message"] == "a part line's quantity x unit_cost must be at most 1,000,000,000,000 IDR"
