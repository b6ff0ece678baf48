from __future__ import annotations

from datetime import datetime, timezone

import pyarrow as pa
import pytest

from application.storage_keys import output_keys, safe_name, upload_key
from domain.timezones import zones_for_cities

WHEN = datetime(2026, 11, 25, 8, 30, tzinfo=timezone.utc)


def test_output_keys_follow_the_raw_key() -> None:
    keys = output_keys("service-records/date=2026-11-24/08-00-00_abc.json", WHEN)
    assert keys.parquet("dim_dealer") == "parquet/dim_dealer/date=2026-11-24/08-00-00_abc.json.parquet"
    assert keys.cleaned_jsonl == "dynamodb/date=2026-11-24/08-00-00_abc.json.jsonl"
    assert keys.rejected == "rejected/date=2026-11-24/08-00-00_abc.json.jsonl"
    assert keys == output_keys("service-records/date=2026-11-24/08-00-00_abc.json", WHEN)


def test_keys_outside_the_layout_are_dated_and_kept_apart() -> None:
    a = output_keys("x/a.json", WHEN)
    b = output_keys("x_a.json", WHEN)
    assert a.date == "2026-11-25" and a.name != b.name


@pytest.mark.parametrize("name", ["../../etc/passwd", "a b.json", "日本.json", "a/b", "", "..", "x" * 500])
def test_client_names_are_sanitised(name: str) -> None:
    safe = safe_name(name)
    assert safe and "/" not in safe and ".." not in safe and len(safe) <= 140
    assert all(c.isascii() and (c.isalnum() or c in "._=-") for c in safe)


def test_upload_keys_sanitise_the_file_name() -> None:
    key = upload_key(WHEN, "u-1", "../dealer files/march.jsonl")
    assert key.startswith("service-records/date=2026-11-25/08-30-00_u-1_") and key.count("/") == 2
    assert "march.jsonl" in key


def test_zones_by_city() -> None:
    cities = pa.array(["Jakarta", " MAKASSAR ", "Kota  Jayapura", "Atlantis", None, "Jakarta"])
    assert zones_for_cities(cities).to_pylist() == ["WIB", "WITA", "WIT", "WIB", "WIB", "WIB"]
