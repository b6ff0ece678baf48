"""The loader against faults, on local adapters and on moto: killed halfway through a day it
loads the rest on its next run and duplicates nothing; a file that arrives late for an earlier
date is still loaded; two submissions correcting one record leave the newer in the table,
whatever order they load in."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import orjson
import pytest

from domain.record_identity import RecordKey
from tests.factories import a_record
from tests.integration.backends import backend

DEALER = "DLR-JKT-001"  # the factories' records' dealership

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def put_raw(b, day: str, name: str, records: list[dict], ingested_at: str) -> str:
    key = f"service-records/date={day}/{name}.json"
    b.raw.put_bytes(key, orjson.dumps(records), {"ingested-at": ingested_at, "submission-id": name})
    return key


def process(b, *keys: str) -> None:
    run = b.process()
    for key in keys:
        assert run(key).status == "processed"


def loader_command(b, folder: Path) -> tuple[list[str], dict[str, str]]:
    """``servicepipe load`` locally; on moto, the Glue loader's process."""
    if b.stack is None:
        servicepipe, env = b.command_line(folder)
        return [*servicepipe, "load"], env
    env = {**os.environ, **b.stack.environment()}
    module = [sys.executable, "-m", "entrypoints.loader.glue_load_to_dynamo"]
    return [*module, "--DYNAMODB_TABLE_NAME", b.stack.table_name, "--SOURCE_BUCKET_NAME", b.stack.cleaned_bucket], env


def table_ids(b, ids: list[str]) -> set[str]:
    return {key.service_record_id for key in b.repository.stored_versions([RecordKey(DEALER, i) for i in ids])}


def test_a_loader_killed_halfway_loads_the_rest_on_rerun_and_a_late_file_still_loads(served, tmp_path) -> None:
    b = served
    files, per_file = (40, 400) if b.stack is None else (12, 40)  # moto server is slower
    today = date.today().isoformat()
    now = datetime.now(timezone.utc).isoformat()
    ids = [f"SR-{f:02d}-{i:03d}" for f in range(files) for i in range(per_file)]
    keys = [
        put_raw(b, today, f"10-00-00_file-{f:02d}", [a_record(i) for i in ids[f * per_file : (f + 1) * per_file]], now)
        for f in range(files)
    ]
    process(b, *keys)
    command, env = loader_command(b, tmp_path / "d")

    loader = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while len(list(b.cleaned.list_keys("load-ledger/"))) < 3:
        assert loader.poll() is None, "the loader finished before it could be killed: give it more to load"
        assert time.monotonic() < deadline
        time.sleep(0.02)
    loader.send_signal(signal.SIGKILL)
    loader.wait(timeout=30)
    loaded_before = len(list(b.cleaned.list_keys("load-ledger/")))
    assert 3 <= loaded_before < files  # killed halfway through the day

    again = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    report = json.loads(again.stdout)
    assert report["files_loaded"] in (files - loaded_before, files - loaded_before + 1)  # + one killed mid-write
    assert len(list(b.cleaned.list_keys("load-ledger/"))) == files
    assert table_ids(b, ids) == set(ids)
    reconciled = b.reconcile(today)
    assert reconciled.ok and reconciled.loaded_rows == files * per_file == len(ids), reconciled.problems[:3]

    # A file that arrives late, for an earlier date: the next run loads it.
    yesterday = (date.today() - timedelta(days=1)).isoformat()
    late = put_raw(b, yesterday, "23-59-00_late", [a_record("SR-late-1"), a_record("SR-late-2")], now)
    process(b, late)
    last = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert last.returncode == 0, last.stderr
    assert json.loads(last.stdout)["files_loaded"] == 1
    assert table_ids(b, ["SR-late-1", "SR-late-2"]) == {"SR-late-1", "SR-late-2"}
    assert b.reconcile(yesterday).ok and b.reconcile(today).ok


@pytest.mark.parametrize("order", ["older-first", "newer-first"])
@pytest.mark.parametrize("name", ["local", "moto"])
def test_the_newer_correction_wins_whatever_the_load_order(name, order, tmp_path, request) -> None:
    if name == "moto":
        request.getfixturevalue("aws_env")
    with backend(name, tmp_path) as b:
        first = a_record("SR-1", {"vehicle.odometer_reading": 45_000})
        corrected = a_record("SR-1", {"vehicle.odometer_reading": 54_000})  # a typo fixed by the dealer
        older = put_raw(b, "2026-11-24", "10-00-00_first", [first, a_record("SR-2")], "2026-11-24T10:00:00+00:00")
        newer = put_raw(b, "2026-11-25", "09-00-00_fix", [corrected], "2026-11-25T09:00:00+00:00")
        process(b, older, newer)
        days = ["2026-11-24", "2026-11-25"] if order == "older-first" else ["2026-11-25", "2026-11-24"]
        for day in days:
            assert b.load(day).ok
        stored = b.repository.get(RecordKey(DEALER, "SR-1"))
        assert stored is not None and stored["vehicle"]["odometer_reading"] == 54_000
        assert str(stored["ingested_at"]).startswith("2026-11-25T09:00:00")
        assert b.repository.get(RecordKey(DEALER, "SR-2")) is not None
        for day in days:
            assert b.reconcile(day).ok  # the older version's row counts: a newer one is in the table
