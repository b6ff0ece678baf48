"""The analytics tables' types say what they mean: money exact to the sen (DECIMAL(18,2)),
instants adjusted to UTC, wall-clock times not, identities never null; and the files hold
the very schema the catalog declares (tests/infra/test_template.py holds the catalog to it)."""

from __future__ import annotations

import io
from decimal import Decimal

import orjson
import pyarrow.parquet as pq

from adapters.local.in_memory import FixedClock, InMemoryObjectStore
from application.processing.process_raw_file import ProcessRawFile
from domain.limits import MAX_COST, MAX_LINE_ITEMS
from domain.star_schema import MONEY, TABLE_SCHEMAS
from tests.factories import NOW, a_record

KEY = "service-records/date=2026-11-25/12-00-00_sub-1.json"
META = {"submission-id": "sub-1", "ingested-at": "2026-11-25T12:00:00+00:00"}


def written(records: list[dict]) -> dict[str, pq.ParquetFile]:
    raw, cleaned, errors = InMemoryObjectStore(), InMemoryObjectStore(), InMemoryObjectStore()
    raw.put_bytes(KEY, orjson.dumps(records), META)
    result = ProcessRawFile(raw, cleaned, errors, FixedClock(NOW))(KEY)
    assert result.rejected_rows == 0, errors.objects
    return {
        table: pq.ParquetFile(
            io.BytesIO(cleaned.objects[f"parquet/{table}/date=2026-11-25/12-00-00_sub-1.json.parquet"])
        )
        for table in TABLE_SCHEMAS
    }


def test_every_file_holds_the_declared_schema_keys_required() -> None:
    files = written([a_record("SR-1"), a_record("SR-2", {"customer": None})])
    for table, schema in TABLE_SCHEMAS.items():
        assert files[table].schema_arrow.remove_metadata() == schema, table
        parquet = files[table].schema
        for field in schema:
            repetition = parquet.column(schema.get_field_index(field.name)).max_definition_level
            assert (repetition == 0) == (not field.nullable), (table, field.name)  # REQUIRED in Parquet


def test_instants_are_adjusted_to_utc_and_wall_clock_times_are_not() -> None:
    parquet = written([a_record("SR-1")])["fact_service_records"].schema
    adjusted = {
        name: parquet.column(i).logical_type.to_json()
        for i, name in enumerate(parquet.names)
        if name.startswith("service_datetime") or name == "ingested_at"
    }
    assert {name: '"isAdjustedToUTC":true' in text for name, text in adjusted.items()} == {
        "service_datetime_utc": True,
        "service_datetime_wib": False,
        "service_datetime_local": False,
        "ingested_at": True,
    }


def test_the_largest_amounts_the_rules_accept_are_held_exactly() -> None:
    """A record at every money limit: total MAX_COST, and MAX_LINE_ITEMS service and part
    lines of MAX_COST each (totals 1e15 IDR, within DECIMAL(18,2)'s 9,999,999,999,999,999.99)."""
    services = [{"service_name": "s", "service_cost": MAX_COST}] * MAX_LINE_ITEMS
    parts = [{"part_name": "p", "quantity": 1, "unit_cost": MAX_COST}] * MAX_LINE_ITEMS
    record = a_record(
        "SR-1",
        {
            "service_details.total_cost": MAX_COST,
            "service_details.services_performed": services,
            "service_details.parts_used": parts,
        },
    )
    files = written([record])
    (fact,) = files["fact_service_records"].read().to_pylist()
    most = Decimal(MAX_COST) * MAX_LINE_ITEMS
    assert (fact["total_cost"], fact["services_cost_total"], fact["parts_cost_total"]) == (MAX_COST, most, most)
    lines = files["dim_parts_used"].read()
    assert lines.schema.field("line_cost").type == MONEY and set(lines.column("line_cost").to_pylist()) == {MAX_COST}


def test_amounts_add_up_to_the_sen_where_doubles_would_not() -> None:
    services = [{"service_name": "a", "service_cost": 0.1}, {"service_name": "b", "service_cost": 0.7}]
    parts = [{"part_name": "p", "quantity": 3, "unit_cost": 0.1}]
    changes = {
        "service_details.total_cost": 1.1,
        "service_details.services_performed": services,
        "service_details.parts_used": parts,
    }
    (fact,) = written([a_record("SR-1", changes)])["fact_service_records"].read().to_pylist()
    assert (fact["total_cost"], fact["services_cost_total"], fact["parts_cost_total"]) == (
        Decimal("1.10"),
        Decimal("0.80"),
        Decimal("0.30"),
    )
