"""No value in one row can stall its file: whatever a field holds, of that field's own kind
(dates from 1900 to 2100 with and without offsets in every zone the project maps, and
every shape of the date grammar with any digits, numbers at
and past every bound, text from every Unicode category), the file is processed on its first
receive and every row is in exactly one place: cleaned, or rejected with its rules."""

from __future__ import annotations

import contextlib
import json
import math
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.limits import INT64_MAX, INT64_MIN, MAX_COST, MAX_PART_QUANTITY
from domain.rule_catalog import MAX_ODOMETER_KM, MIN_YEAR
from domain.service_dates import SERVICE_DATE_PATTERN
from domain.timezones import ZONES
from tests.factories import a_record, set_path
from tests.one_file import process_one_file


def outcome(rows: list[object]) -> tuple[list[int], dict[int, list[str]]]:
    """Process one file of ``rows`` once, as the worker's first receive does: (indices of the
    cleaned rows, rules of each rejected row). Raises if processing does not finish."""
    # json, not orjson: NaN, integers past 64 bits and lone surrogates (as escapes) go through.
    done = process_one_file(json.dumps(rows).encode())
    assert done.result.status == "processed"
    valid = done.cleaned_indices()
    rejected = {row["index"]: sorted({e["rule"] for e in row["errors"]}) for row in done.rejected_rows()}
    assert sorted(valid + list(rejected)) == list(range(len(rows))), "a row in none, or in two"
    assert (done.result.valid_rows, done.result.rejected_rows) == (len(valid), len(rejected))
    return valid, rejected


@pytest.mark.parametrize(
    ("service_date", "rules"),
    [
        ("1963-12-31T23:45:00", ["service_date_range"]),  # Jakarta's clock went back 30 minutes
        ("1932-11-01T00:05:00", ["service_date_range"]),  # ... and forward 10 (a wall time that never was)
        ("1942-03-23T00:10:00", ["service_date_range"]),
        ("1999-12-31T23:59:59", ["service_date_range"]),  # the last refused: 1999-12-31 16:59:59 UTC
        ("2000-01-01T00:00:00", []),  # the first accepted, read as WIB (UTC+7)
    ],
)
def test_a_local_time_jakartas_history_made_odd_is_judged_in_its_row(service_date, rules) -> None:
    """Text without an offset is read at UTC+7, one fixed rule: a wall time that did not exist,
    or existed twice, in Asia/Jakarta's history is just a date; the rest of the file goes on."""
    odd = a_record("SR-2", {"service_details.service_date": service_date, "vehicle.year": None})
    rows = [a_record("SR-1"), odd]
    valid, rejected = outcome(rows)
    assert (1 in valid, rejected.get(1, [])) == (not rules, rules)
    assert 0 in valid


@pytest.mark.parametrize(
    ("service_dates", "rules"),
    [
        # Year 0 beside 7 decimals: pandas read the column in nanoseconds and the file failed.
        (["0000-01-01", "0000-01-01T00:00:00.0000000Z"], [["service_date_format"], ["service_date_format"]]),
        (["0001-01-01", "0001-01-01T00:00:00.0000000Z"], [["service_date_range"], ["service_date_range"]]),
        (["9999-12-31T23:59:59.999999999-23:59", "2026-02-30"], [["service_date_range"], ["service_date_format"]]),
    ],
)
def test_dates_at_the_ends_of_the_calendar_cost_only_their_rows(service_dates, rules) -> None:
    odd = [
        a_record(f"SR-{i}", {"service_details.service_date": date, "vehicle.year": None})
        for i, date in enumerate(service_dates, start=1)
    ]
    valid, rejected = outcome([a_record("SR-0"), *odd])
    assert valid == [0]
    assert [rejected[i] for i in range(1, len(odd) + 1)] == rules


# --- the class: every field, values of its own kind ----------------------------------------
ZONE_INFOS = [ZoneInfo(name) for name in ZONES.values()]
FIXED = [timezone.utc, *(timezone(timedelta(hours=h)) for h in (7, 8, 9)), timezone(timedelta(hours=-23, minutes=-59))]


@st.composite
def service_dates(draw) -> str:
    """1900 to 2100, written every way the grammar allows, with no offset, a fixed one, or the
    offset each Indonesian zone had on that day (LMT's seconds included)."""
    when = draw(st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2100, 12, 31)))
    zone = draw(st.none() | st.sampled_from(FIXED) | st.sampled_from(ZONE_INFOS))
    stamp = when.replace(tzinfo=zone) if zone is not None else when
    form = draw(st.sampled_from(["date", "minutes", "seconds", "micro", "space", "Z", "compact"]))
    if form == "date":
        return stamp.date().isoformat()
    text = stamp.isoformat(
        sep=" " if form == "space" else "T",
        timespec={"minutes": "minutes", "micro": "microseconds"}.get(form, "seconds"),
    )
    if form == "Z" and zone is timezone.utc:
        text = text.replace("+00:00", "Z")
    if form == "compact" and zone is not None:
        text = text[:-3] + text[-2:] if text[-3] == ":" else text  # +0700
    return text


# The grammar's every shape with any digits: year 0, 30 February, hour 99, 9 decimals, offset +99:99.
grammar_shaped_dates = st.from_regex(SERVICE_DATE_PATTERN.replace(r"\d", "[0-9]"), fullmatch=True)
bounds = st.sampled_from(
    [
        0,
        -1,
        1,
        MIN_YEAR - 1,
        MIN_YEAR,
        2026,
        2027,
        2028,
        MAX_ODOMETER_KM,
        MAX_ODOMETER_KM + 1,
        MAX_PART_QUANTITY,
        MAX_PART_QUANTITY + 1,
        MAX_COST,
        MAX_COST + 1,
        INT64_MAX,
        INT64_MAX + 1,
        INT64_MIN,
        INT64_MIN - 1,
        2**64,
        -(2**70),
        0.005,
        -0.01,
        -0.0,
        1e-7,
        1e-300,
        5e-324,
        MAX_COST + 0.01,
        1.7976931348623157e308,
        math.nan,
        math.inf,
        -math.inf,
    ]
)
numbers = bounds | st.integers() | st.floats()
texts = st.text(st.characters(), max_size=12) | st.sampled_from(["", " ", "\u0000", "\ud800", "\x7f", "A" * 200])
NUMBER_FIELDS = [
    "vehicle.year",
    "vehicle.odometer_reading",
    "service_details.total_cost",
    "service_details.services_performed.0.service_cost",
    "service_details.parts_used.0.quantity",
    "service_details.parts_used.0.unit_cost",
]
TEXT_FIELDS = [
    "service_record_id",
    "dealer.dealer_id",
    "dealer.dealer_name",
    "dealer.dealer_location",
    "vehicle.vin",
    "vehicle.model",
    "service_details.service_advisor_name",
    "service_details.services_performed.0.service_code",
    "service_details.services_performed.0.service_name",
    "service_details.services_performed.0.technician_notes",
    "service_details.parts_used.0.part_code",
    "service_details.parts_used.0.part_name",
    "customer.customer_id",
    "customer.customer_name",
]
field_values = (
    st.tuples(st.just("service_details.service_date"), service_dates() | grammar_shaped_dates | texts)
    | st.tuples(st.sampled_from(NUMBER_FIELDS), numbers)
    | st.tuples(st.sampled_from(TEXT_FIELDS), texts)
)


@st.composite
def records_with_odd_fields(draw, index: int) -> dict:
    record = a_record(f"SR-{index}")
    for path, value in draw(st.lists(field_values, min_size=1, max_size=3)):
        with contextlib.suppress(KeyError, IndexError, TypeError):
            set_path(record, path, value)
    if record.get("service_record_id") == "SR-0":  # the one plain row below must stay unique
        record["service_record_id"] = f"SR-{index}"
    return record


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(1, 6).flatmap(lambda n: st.tuples(*(records_with_odd_fields(i) for i in range(1, n + 1)))))
def test_no_field_value_stalls_its_file(odd_rows) -> None:
    valid, _ = outcome([a_record("SR-0"), *odd_rows])
    assert 0 in valid  # the plain row always goes through
