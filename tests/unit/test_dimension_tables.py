"""Dimension tables keep one row per key, its last, however the file is batched or spooled."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from contextlib import ExitStack

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from adapters.local.in_memory import InMemoryObjectStore, InMemoryScratch
from application.processing.dimension_tables import PARTITIONS, DimensionTable
from application.processing.process_raw_file import ProcessRawFile
from tests.factories import NOW, a_record

SCHEMA = pa.schema([("vin", pa.string()), ("model", pa.string())])


def batches() -> list[pa.Table]:
    """40 batches of 50 keys; every key comes back in later batches with a newer model."""
    tables = []
    for batch in range(40):
        vins = [f"VIN{(batch * 37 + i) % 300:04d}" for i in range(50)]
        tables.append(pa.table({"vin": vins, "model": [f"{vin}@{batch}" for vin in vins]}, schema=SCHEMA))
    return tables


def expected_last_rows() -> dict[str, str]:
    last = {}
    for table in batches():
        last.update(zip(table.column("vin").to_pylist(), table.column("model").to_pylist(), strict=True))
    return last


def gathered(scratch) -> tuple[pa.Table, int]:
    with ExitStack() as stack:
        dimension = DimensionTable(("vin",), SCHEMA, stack, scratch)
        for table in batches():
            dimension.add(table)
        parts = list(dimension.final_rows())
    return pa.concat_tables(parts), len(parts)


def test_spooled_rows_keep_each_key_once_with_its_last_row() -> None:
    scratch = InMemoryScratch()
    rows, parts = gathered(scratch)
    assert rows.num_rows == len(set(rows.column("vin").to_pylist())) == 300
    assert (
        dict(zip(rows.column("vin").to_pylist(), rows.column("model").to_pylist(), strict=True)) == expected_last_rows()
    )
    assert scratch.opened == parts == PARTITIONS  # read back one partition at a time


def test_spooled_and_in_memory_rows_are_equal_row_for_row() -> None:
    spooled, _ = gathered(InMemoryScratch())
    in_memory, parts = gathered(None)
    assert parts == 1 and spooled.equals(in_memory)


def test_partitions_are_the_same_in_every_process() -> None:
    keys = [f"MHFXX12G3K{i:07d}" for i in range(200)] + [None]
    probe = (
        "import json, pyarrow as pa; from application.processing.dimension_tables import partitions_of; "
        f"print(json.dumps(partitions_of(pa.array({keys!r})).tolist()))"
    )
    seen = set()
    for seed in ("1", "2"):  # Python's own str hash differs between these processes
        done = subprocess.run(
            [sys.executable, "-c", probe], env={**os.environ, "PYTHONHASHSEED": seed}, capture_output=True, text=True
        )
        seen.add(done.stdout)
    (spread,) = seen
    assert len(set(json.loads(spread))) == PARTITIONS  # and the keys spread over all of them


def test_a_file_of_many_batches_writes_dimensions_with_each_key_once_its_last_row(clock) -> None:
    records = []
    for i in range(1_200):
        vin = f"MHFXX12G3K{i % 150:07d}"
        records.append(a_record(f"SR-{i:05d}", {"vehicle.vin": vin, "vehicle.model": f"M{i}"}))
    raw, cleaned, errors = InMemoryObjectStore(NOW), InMemoryObjectStore(NOW), InMemoryObjectStore(NOW)
    key = "service-records/date=2026-11-25/many.jsonl"
    raw.put_bytes(key, b"\n".join(orjson.dumps(r) for r in records))
    scratch = InMemoryScratch()
    ProcessRawFile(raw, cleaned, errors, clock, chunk_bytes=20_000, scratch=scratch)(key)
    assert scratch.opened > PARTITIONS  # spooled
    (body,) = [v for k, v in cleaned.objects.items() if "dim_vehicle" in k]
    vehicles = pq.read_table(io.BytesIO(body))
    models = dict(zip(vehicles.column("vin").to_pylist(), vehicles.column("model").to_pylist(), strict=True))
    assert vehicles.num_rows == len(models) == 150
    assert models == {f"MHFXX12G3K{i % 150:07d}": f"M{i}" for i in range(1_200 - 150, 1_200)}
