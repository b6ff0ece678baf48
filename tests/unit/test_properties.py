"""Properties of the domain and its use-cases, over inputs hypothesis makes up (bounded
examples, so that `make test` stays fast):
- any JSON value is accepted by SubmitRecord or refused with a reason, never anything else;
- ProcessRawFile puts every row of any file into exactly one of cleaned or rejected;
- valid records come out in the JSON Lines and the Parquet with their values intact."""

from __future__ import annotations

import contextlib
import io
import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import orjson
import pyarrow.parquet as pq
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.local.in_memory import FixedClock, InMemoryObjectStore
from application.intake.submit_record import SubmissionError, SubmitRecord
from domain.dealer_access import OPERATOR
from domain.limits import MAX_COST
from tests.factories import NOW, a_record, set_path
from tests.one_file import NAME, process_one_file

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=25,
)
PATHS = [
    "service_record_id",
    "dealer",
    "dealer.dealer_id",
    "dealer.dealer_location",
    "vehicle.vin",
    "vehicle.year",
    "vehicle.odometer_reading",
    "service_details",
    "service_details.service_date",
    "service_details.total_cost",
    "service_details.services_performed",
    "service_details.parts_used.0.quantity",
    "service_details.parts_used.1.unit_cost",
    "customer",
    "customer.customer_name",
]


@st.composite
def bent_records(draw, record_id: str = "SR-1") -> dict:
    """A valid record with up to three fields replaced by any JSON value (or removed)."""
    record = a_record(record_id)
    for path in draw(st.lists(st.sampled_from(PATHS), max_size=3, unique=True)):
        # An earlier change may have removed or replaced the parent: as good a record.
        with contextlib.suppress(AttributeError, KeyError, IndexError, TypeError, ValueError):
            set_path(record, path, draw(json_values))
    return record


@SETTINGS
@given(st.one_of(json_values, bent_records(), st.lists(bent_records(), max_size=3)))
def test_any_json_value_is_accepted_or_refused_with_a_reason(value) -> None:
    raw = InMemoryObjectStore()
    body = json.dumps(value).encode()  # json, not orjson: integers past 64 bits are JSON too
    try:
        receipt = SubmitRecord(raw, FixedClock(NOW))(body, OPERATOR)
    except SubmissionError as err:
        assert str(err).strip()  # the reason
        assert raw.objects == {}  # and nothing stored
        return
    assert receipt.submission_id and raw.read_bytes(receipt.file_key) == body


@SETTINGS
@given(st.lists(st.one_of(bent_records(), json_values), min_size=1, max_size=8))
def test_every_row_of_any_file_is_cleaned_or_rejected_exactly_once(rows) -> None:
    # Distinct ids for the record-shaped rows (a repeated id is a rule of its own, tested apart).
    for i, row in enumerate(rows):
        if isinstance(row, dict) and isinstance(row.get("service_record_id"), str):
            row["service_record_id"] = f"SR-{i}"
    done = process_one_file(json.dumps(rows).encode())
    assert done.result.status == "processed"
    valid = done.cleaned_indices()
    rejected = [row["index"] for row in done.rejected_rows()]
    assert sorted(valid + rejected) == list(range(len(rows)))
    assert (done.result.valid_rows, done.result.rejected_rows) == (len(valid), len(rejected))


VIN_CHARACTERS = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"
words = st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), min_size=1, max_size=24).filter(
    lambda s: s.strip() == s
)
amounts = st.integers(min_value=0, max_value=10**12) | st.sampled_from([0.5, 1250.75, 99_999.99])
WIB = timezone(timedelta(hours=7))


@st.composite
def valid_records(draw, record_id: str) -> dict:
    when = draw(st.datetimes(min_value=datetime(2000, 1, 2), max_value=datetime(2026, 11, 24)))
    return {
        "service_record_id": record_id,
        "dealer": {"dealer_id": draw(words), "dealer_name": draw(words), "dealer_location": "Jakarta"},
        "vehicle": {
            "vin": draw(st.text(alphabet=VIN_CHARACTERS, min_size=17, max_size=17)),
            "model": draw(words),
            "year": draw(st.integers(min_value=1950, max_value=when.year)),
            "odometer_reading": draw(st.integers(min_value=0, max_value=2_000_000)),
        },
        "service_details": {
            "service_date": when.replace(microsecond=0, tzinfo=WIB).isoformat(),
            "service_advisor_name": draw(words),
            "total_cost": draw(amounts),
            "services_performed": draw(
                st.lists(
                    st.fixed_dictionaries(
                        {
                            "service_code": words,
                            "service_name": words,
                            "service_cost": amounts,
                            "technician_notes": words,
                        }
                    ),
                    max_size=3,
                )
            ),
            "parts_used": draw(
                st.lists(
                    st.integers(min_value=1, max_value=100_000).flatmap(
                        lambda quantity: st.fixed_dictionaries(
                            {
                                "part_code": words,
                                "part_name": words,
                                "quantity": st.just(quantity),
                                # A line's cost is within the limit too (line_cost_too_large).
                                "unit_cost": amounts.filter(lambda cost: quantity * cost <= MAX_COST)
                                | st.integers(min_value=0, max_value=MAX_COST // quantity),
                            }
                        )
                    ),
                    max_size=3,
                )
            ),
        },
        "customer": {"customer_id": draw(words), "customer_name": draw(words)},
    }


@SETTINGS
@given(
    st.lists(st.integers(0, 10**6), min_size=1, max_size=5, unique=True).flatmap(
        lambda ids: st.tuples(*(valid_records(f"SR-{i}") for i in ids))
    )
)
def test_valid_records_round_trip_to_json_lines_and_parquet(records) -> None:
    done = process_one_file(orjson.dumps(list(records)))
    assert (done.result.valid_rows, done.result.rejected_rows) == (len(records), 0), done.rejected_rows()
    cleaned, lines = done.cleaned, done.cleaned_lines()
    fact = {r["service_record_id"]: r for r in parquet(cleaned, "fact_service_records")}
    services, parts = parquet(cleaned, "dim_services_performed"), parquet(cleaned, "dim_parts_used")
    for sent, line in zip(records, lines, strict=True):
        details = sent["service_details"]
        when = datetime.fromisoformat(details["service_date"]).astimezone(timezone.utc)
        assert line["service_record_id"] == sent["service_record_id"]
        assert line["vehicle"] == sent["vehicle"] and line["customer"] == sent["customer"]
        assert {k: line["dealer"][k] for k in sent["dealer"]} == sent["dealer"]
        assert datetime.fromisoformat(line["service_details"]["service_date"].replace("Z", "+00:00")) == when
        for field in ("service_advisor_name", "total_cost", "services_performed", "parts_used"):
            assert _same(line["service_details"][field], details[field]), field
        row = fact[sent["service_record_id"]]
        assert (row["vin"], row["odometer_reading"], row["dealer_id"]) == (
            sent["vehicle"]["vin"],
            sent["vehicle"]["odometer_reading"],
            sent["dealer"]["dealer_id"],
        )
        assert row["total_cost"] == money(details["total_cost"]) and row["service_datetime_utc"] == when
        mine = [s for s in services if s["service_record_id"] == sent["service_record_id"]]
        assert [(s["service_code"], s["service_name"], s["service_cost"], s["technician_notes"]) for s in mine] == [
            (s["service_code"], s["service_name"], money(s["service_cost"]), s["technician_notes"])
            for s in details["services_performed"]
        ]
        mine = [p for p in parts if p["service_record_id"] == sent["service_record_id"]]
        assert [(p["part_code"], p["part_name"], p["quantity"], p["unit_cost"]) for p in mine] == [
            (p["part_code"], p["part_name"], p["quantity"], money(p["unit_cost"])) for p in details["parts_used"]
        ]


def money(sent: float) -> Decimal:
    """An amount as the analytics tables hold it: exact, to the sen (DECIMAL(18,2))."""
    return Decimal(repr(sent)).quantize(Decimal("0.01"))


def parquet(store, table: str) -> list[dict]:
    return pq.read_table(io.BytesIO(store.objects[f"parquet/{table}/date=2026-11-25/{NAME}.parquet"])).to_pylist()


def _same(got, sent) -> bool:
    """Equal, with numbers compared as numbers (650000 and 650000.0 are one amount)."""
    if isinstance(sent, list):
        return len(got) == len(sent) and all(_same(g, s) for g, s in zip(got, sent, strict=True))
    if isinstance(sent, dict):
        return set(got) >= set(sent) and all(_same(got[k], v) for k, v in sent.items())
    return got == sent
