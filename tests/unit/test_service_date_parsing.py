"""Service dates are read by Arrow a column at a time, and value by value by the API's parser
when Arrow refuses the column: the two readings must be the same for every text the grammar
admits, and a value's reading never depends on its neighbours."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from domain.cleaning import arrow_service_dates, parse_service_dates, python_service_dates
from domain.service_dates import SERVICE_DATE_PATTERN, is_service_date

# The grammar with arbitrary ASCII digits: impossible months, days, hours and offsets included.
GRAMMAR_SHAPED = st.from_regex(SERVICE_DATE_PATTERN.replace(r"\d", "[0-9]"), fullmatch=True)
DECIMALS = st.from_regex(r"\A(\.[0-9]{1,9})?\Z")
# Digits mostly within the calendar, so that Arrow's own reading is exercised too.
PLAUSIBLE = st.builds(
    "{:04d}-{:02d}-{:02d}{}".format,
    st.integers(1, 9999),
    st.integers(1, 12),
    st.integers(1, 31),
    st.one_of(
        st.just(""),
        st.builds(
            "{}{:02d}:{:02d}{}{}".format,
            st.sampled_from("T "),
            st.integers(0, 24),
            st.integers(0, 60),
            st.one_of(st.just(""), st.builds(":{:02d}{}".format, st.integers(0, 60), DECIMALS)),
            st.one_of(st.just(""), st.just("Z"), st.from_regex(r"\A[+-][0-9]{2}(:?[0-9]{2})?\Z")),
        ),
    ),
)
TEXTS = st.one_of(GRAMMAR_SHAPED, PLAUSIBLE, st.none(), st.text(max_size=30))


def _candidates(texts: list[str | None]) -> pa.Array:
    dates = pa.array(texts, pa.string())
    well_formed = pc.fill_null(pc.match_substring_regex(dates, SERVICE_DATE_PATTERN), False)
    return pc.if_else(well_formed, dates, pa.scalar(None, pa.string()))


@settings(max_examples=400, deadline=None)
@given(st.lists(TEXTS, min_size=1, max_size=8))
def test_arrow_reads_every_column_it_accepts_as_the_api_does(texts: list[str | None]) -> None:
    candidates = _candidates(texts)
    one_by_one = python_service_dates(candidates)
    try:
        read = arrow_service_dates(candidates)
    except pa.ArrowInvalid:
        event("Arrow refused the column")
    else:
        event("Arrow read the column")
        assert read.equals(one_by_one)
    parsed = parse_service_dates(pa.array(texts, pa.string()))
    assert parsed.isna().tolist() == [t is None or not is_service_date(t) for t in texts]
    # Each value alone reads as it does among the others.
    alone = pd.concat([parse_service_dates(pa.array([t], pa.string())) for t in texts], ignore_index=True)
    assert alone.equals(parsed)


@pytest.mark.parametrize(
    "impossible",
    ["2024-02-30", "2023-02-29", "2024-03-01T24:00", "2024-03-01T10:00:60", "2024-03-01T10:00+24:00"],
)
def test_one_impossible_date_costs_its_value_not_the_batch(impossible: str) -> None:
    dates = pa.array([impossible, "2024-03-01T10:00:00+07:00", "2024-03-01", None])
    with pytest.raises(pa.ArrowInvalid):
        arrow_service_dates(_candidates(dates.to_pylist()))
    parsed = parse_service_dates(dates)
    assert parsed.isna().tolist() == [True, False, False, True]
    assert parsed[1] == pd.Timestamp("2024-03-01T03:00:00Z")
    assert parsed[2] == pd.Timestamp("2024-02-29T17:00:00Z")  # no offset: WIB


@pytest.mark.parametrize(
    ("text", "utc"),
    [
        ("2024-03-01T10:00:05.123456+07:00", "2024-03-01T03:00:05.123456Z"),  # 6 decimals: Arrow reads it
        ("2024-03-01T10:00:05.1234567+07:00", "2024-03-01T03:00:05.123456Z"),  # 7: one by one, cut
        ("2024-02-29T23:59:59.999999999", "2024-02-29T16:59:59.999999Z"),
    ],
)
def test_decimals_beyond_microseconds_are_cut_as_before(text: str, utc: str) -> None:
    assert parse_service_dates(pa.array([text]))[0] == pd.Timestamp(utc)
