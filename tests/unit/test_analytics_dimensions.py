"""The published dimensions: one current row per key, and each key's history of changes."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pyarrow as pa
import pyarrow.compute as pc
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.analytics_tables import SCHEMAS, changes, current, history
from domain.star_schema import TABLE_SCHEMAS

T0 = datetime(2026, 11, 25, 8, 0, tzinfo=timezone.utc)


def dealers(*rows: tuple[str, str | None, str, int, str]) -> pa.Table:
    """Staged dim_dealer rows: (dealer_id, name, city, minutes after T0, source file)."""
    return pa.table(
        {
            "dealer_id": [r[0] for r in rows],
            "dealer_name": [r[1] for r in rows],
            "dealer_location": [r[2] for r in rows],
            "dealer_timezone": ["WIB"] * len(rows),
            "source_file": [r[4] for r in rows],
            "ingested_at": [T0 + timedelta(minutes=r[3]) for r in rows],
        },
        TABLE_SCHEMAS["dim_dealer"],
    )


def test_a_renamed_dealer_is_one_current_row_with_its_new_name_and_two_versions() -> None:
    staged = dealers(
        ("DLR-1", "Astra Sunter", "Jakarta", 0, "a"),
        ("DLR-1", "Astra Sunter", "Jakarta", 5, "b"),  # the same again: no new version
        ("DLR-1", "Astra Motor Sunter", "Jakarta", 10, "c"),
        ("DLR-2", "Auto Bandung", "Bandung", 3, "a"),
    )
    versions = history("dim_dealer", changes("dim_dealer", staged))
    rows = versions.select(["dealer_id", "dealer_name", "valid_from", "valid_to"]).to_pylist()
    assert rows == [
        {"dealer_id": "DLR-1", "dealer_name": "Astra Sunter", "valid_from": T0, "valid_to": T0 + timedelta(minutes=10)},
        {
            "dealer_id": "DLR-1",
            "dealer_name": "Astra Motor Sunter",
            "valid_from": T0 + timedelta(minutes=10),
            "valid_to": None,
        },
        {
            "dealer_id": "DLR-2",
            "dealer_name": "Auto Bandung",
            "valid_from": T0 + timedelta(minutes=3),
            "valid_to": None,
        },
    ]
    latest = current("dim_dealer", versions)
    assert latest.select(["dealer_id", "dealer_name"]).to_pylist() == [
        {"dealer_id": "DLR-1", "dealer_name": "Astra Motor Sunter"},
        {"dealer_id": "DLR-2", "dealer_name": "Auto Bandung"},
    ]
    assert latest.schema == SCHEMAS["dim_dealer"] and versions.schema == SCHEMAS["dim_dealer_history"]


def test_a_version_seen_again_on_a_later_date_is_not_a_new_version() -> None:
    """Each date's changes start with each key's row as the date first saw it."""
    day_one = changes("dim_dealer", dealers(("DLR-1", "Astra", "Jakarta", 0, "a")))
    day_two = changes("dim_dealer", dealers(("DLR-1", "Astra", "Jakarta", 24 * 60, "b")))
    versions = history("dim_dealer", pa.concat_tables([day_one, day_two]))
    assert versions.num_rows == 1 and versions.column("valid_from").to_pylist() == [T0]


def test_a_name_that_goes_missing_and_comes_back_is_three_versions() -> None:
    """A null attribute is a value of its own: equal to a null, different from a name."""
    staged = dealers(
        ("DLR-1", "Astra", "Jakarta", 0, "a"),
        ("DLR-1", None, "Jakarta", 1, "b"),
        ("DLR-1", None, "Jakarta", 2, "c"),
        ("DLR-1", "Astra", "Jakarta", 3, "d"),
    )
    versions = history("dim_dealer", changes("dim_dealer", staged))
    assert versions.column("dealer_name").to_pylist() == ["Astra", None, "Astra"]


def test_versions_follow_ingestion_time_then_file_name_not_arrival_order() -> None:
    staged = dealers(("DLR-1", "Later", "Jakarta", 10, "a"), ("DLR-1", "Earlier", "Jakarta", 10, "A"))
    assert current("dim_dealer", history("dim_dealer", changes("dim_dealer", staged))).column(
        "dealer_name"
    ).to_pylist() == ["Later"]  # same instant: "a" sorts after "A"


def test_no_rows_publish_empty_dimensions_of_their_schemas() -> None:
    versions = history("dim_vehicle", TABLE_SCHEMAS["dim_vehicle"].empty_table())
    assert versions.num_rows == 0 and versions.schema == SCHEMAS["dim_vehicle_history"]
    assert current("dim_vehicle", versions).schema == SCHEMAS["dim_vehicle"]


FILES = "abcdef"
# A staged dimension holds at most one row per key per file, and a file has one ingestion time.
staged_rows = st.dictionaries(
    st.tuples(st.sampled_from(["DLR-1", "DLR-2", "DLR-3"]), st.sampled_from(FILES)),
    st.tuples(st.sampled_from(["Astra", "Auto", None]), st.sampled_from(["Jakarta", "Bandung"])),
    max_size=18,
)
file_minutes = st.lists(st.integers(0, 5), min_size=len(FILES), max_size=len(FILES))


def _versions_of_every_row(staged: pa.Table) -> list[tuple]:
    """The history computed from every staged row at once, the slow, obvious way."""
    rows = sorted(
        enumerate(staged.to_pylist()), key=lambda r: (r[1]["dealer_id"], r[1]["ingested_at"], r[1]["source_file"], r[0])
    )
    versions: list[tuple] = []
    for _, row in rows:
        version = (row["dealer_id"], row["dealer_name"], row["dealer_location"])
        if not versions or versions[-1][:3] != version:
            versions.append((*version, row["ingested_at"]))
    return versions


def _as_tuples(versions: pa.Table) -> list[tuple]:
    return [(r["dealer_id"], r["dealer_name"], r["dealer_location"], r["valid_from"]) for r in versions.to_pylist()]


@settings(max_examples=300, deadline=None)
@given(staged_rows, file_minutes, st.integers(0, 6), st.lists(st.booleans(), min_size=6, max_size=6))
def test_history_by_dates_is_the_history_of_every_row(cells, minutes, first_minute_of_day_two, in_day_two) -> None:
    """Published a date at a time, the history is what every row at once would give when
    dates follow ingestion time; and however files fall across dates, each key's current row
    is its last row in version order and a version's ``valid_to`` is the next one's ``valid_from``."""
    at = dict(zip(FILES, minutes, strict=True))
    rows = [(dealer, name, city, at[file], file) for (dealer, file), (name, city) in cells.items()]
    staged = dealers(*rows)
    by_time = {f: at[f] >= first_minute_of_day_two for f in FILES}
    for day_two in (by_time, dict(zip(FILES, in_day_two, strict=True))):
        mask = pa.array([day_two[r[4]] for r in rows], pa.bool_())
        by_date = pa.concat_tables(
            [changes("dim_dealer", staged.filter(pc.invert(mask))), changes("dim_dealer", staged.filter(mask))]
        )
        versions = history("dim_dealer", by_date)
        expected = _versions_of_every_row(staged)
        last = {v[0]: v[1:3] for v in expected}
        latest = current("dim_dealer", versions).to_pylist()
        assert {r["dealer_id"]: (r["dealer_name"], r["dealer_location"]) for r in latest} == last
        found = versions.to_pylist()
        for before, after in zip(found, found[1:], strict=False):
            if before["dealer_id"] == after["dealer_id"]:
                assert before["valid_to"] == after["valid_from"]
        if day_two is by_time:  # dates that follow ingestion time: exactly the same history
            assert _as_tuples(versions) == expected
