"""Processing a file in many small batches gives exactly the outputs of one big batch."""

from __future__ import annotations

import io

import orjson
import pyarrow.parquet as pq
import pytest

from adapters.local.in_memory import InMemoryObjectStore, InMemoryScratch
from application.processing.dimension_tables import PARTITIONS
from application.processing.process_raw_file import ProcessRawFile
from entrypoints.sample_data import generate_records
from tests.factories import NOW, a_record


def sample_file(as_array: bool) -> bytes:
    records = list(generate_records(1_500, bad_fraction=0.1, seed=11, now=NOW))
    # Ids repeated far apart, so that the repeats fall in different batches.
    records.append(a_record(records[3]["service_record_id"], {"vehicle.odometer_reading": 7}))
    records.insert(900, a_record(records[1200]["service_record_id"]))
    records.append(a_record("LATE", {"vehicle.vin": "BAD"}))
    if as_array:
        return orjson.dumps(records, option=orjson.OPT_INDENT_2)
    lines = [orjson.dumps(r) for r in records]
    lines.insert(700, b"not json at all")
    return b"\n".join(lines)


def outputs(data: bytes, clock, chunk_bytes: int, scratch=None) -> tuple[dict, dict, dict]:
    raw, cleaned, errors = InMemoryObjectStore(NOW), InMemoryObjectStore(NOW), InMemoryObjectStore(NOW)
    key = "service-records/date=2026-11-25/bulk.json"
    raw.put_bytes(key, data)
    result = ProcessRawFile(raw, cleaned, errors, clock, chunk_bytes=chunk_bytes, scratch=scratch)(key)
    return result.to_dict(), cleaned.objects, errors.objects


@pytest.mark.parametrize("spooled", [False, True])
@pytest.mark.parametrize("as_array", [False, True])
def test_many_batches_and_one_batch_write_the_same_outputs(clock, as_array, spooled) -> None:
    data = sample_file(as_array)
    scratch = InMemoryScratch() if spooled else None
    whole_result, whole_cleaned, whole_errors = outputs(data, clock, chunk_bytes=64 * 1024 * 1024)
    small_result, small_cleaned, small_errors = outputs(data, clock, chunk_bytes=40_000, scratch=scratch)
    # Spools per partition of each dimension table and of the ids, per pass (the ids repeated
    # across batches need a second pass).
    assert scratch is None or 2 * 4 < scratch.opened <= 2 * 4 * PARTITIONS
    assert whole_result == small_result
    assert whole_result["rejected_by_rule"]["duplicate_id"] >= 3
    assert set(whole_cleaned) == set(small_cleaned) and set(whole_errors) == set(small_errors)
    for key, body in whole_cleaned.items():
        if key.endswith(".parquet"):
            whole_table, small_table = pq.read_table(io.BytesIO(body)), pq.read_table(io.BytesIO(small_cleaned[key]))
            assert whole_table.equals(small_table), key
            if "fact_service_records" in key:
                assert pq.ParquetFile(io.BytesIO(small_cleaned[key])).num_row_groups > 5  # really in batches
        elif key.startswith("dynamodb/"):
            assert body == small_cleaned[key]
    for key, body in whole_errors.items():
        assert body == small_errors[key], key


def test_blank_ids_in_different_batches_are_missing_not_duplicates(clock) -> None:
    records = [a_record(f"R{i}") for i in range(60)]
    records[5]["service_record_id"] = " "
    records[55]["service_record_id"] = ""
    data = b"\n".join(orjson.dumps(r) for r in records)
    result, _, errors = outputs(data, clock, chunk_bytes=10_000)
    assert result["rejected_by_rule"] == {"required": 2}


def test_the_between_batches_hook_runs_once_a_batch_is_written(clock) -> None:
    raw, cleaned, errors = InMemoryObjectStore(NOW), InMemoryObjectStore(NOW), InMemoryObjectStore(NOW)
    key = "service-records/date=2026-11-25/bulk.jsonl"
    raw.put_bytes(key, b"\n".join(orjson.dumps(a_record(f"R{i}")) for i in range(300)))
    calls = []
    ProcessRawFile(raw, cleaned, errors, clock, chunk_bytes=20_000, between_batches=lambda: calls.append(1))(key)
    batches = pq.ParquetFile(io.BytesIO(next(v for k, v in cleaned.objects.items() if "fact_" in k))).num_row_groups
    assert batches > 3 and len(calls) == batches - 1  # after each write but the last, as the next begins


def test_the_worker_returns_freed_memory_between_batches(tmp_path) -> None:
    from entrypoints.container import build_container
    from entrypoints.memory import release_free_memory
    from entrypoints.settings import Settings

    container = build_container(Settings.from_env(data_dir=str(tmp_path), backend="local"))
    assert container.process_raw_file()._between_batches is release_free_memory
    release_free_memory()  # callable here (glibc), a no-op elsewhere
