"""``servicepipe forget`` as an operator runs it, on local adapters and on moto: one customer
planted in every place (tests/planted_customer.py) is found nowhere after, searched byte by
byte in every object and every earlier version, every Parquet value and every table item;
everyone else's data is as it was."""

from __future__ import annotations

import io
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import boto3
import orjson
import pyarrow.parquet as pq
import pytest

from tests import planted_customer as planted

PERSONAL = (planted.NAME, planted.NOTES, "0812-555-0101")


def _run(served, folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command, env = served.command_line(folder)
    return subprocess.run([*command, *args], capture_output=True, text=True, timeout=300, env=env)


def _ok(served, folder: Path, *args: str) -> str:
    done = _run(served, folder, *args)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _objects(served, folder: Path) -> Iterator[tuple[str, bytes]]:
    """Every stored object and every earlier version of one, with where it is."""
    if served.stack is None:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                yield str(path.relative_to(folder)), path.read_bytes()
        return
    s3 = boto3.client("s3")
    for bucket in (served.stack.raw_bucket, served.stack.cleaned_bucket, served.stack.error_bucket):
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
            for version in page.get("Versions", []):
                body = s3.get_object(Bucket=bucket, Key=version["Key"], VersionId=version["VersionId"])["Body"]
                yield f"{bucket}/{version['Key']}@{version['VersionId']}", body.read()


def _texts(data: bytes, place: str) -> Iterator[bytes]:
    """What an object says: its bytes, and every value of a Parquet file (compressed inside)."""
    yield data
    if place.split("@")[0].endswith(".parquet"):
        yield orjson.dumps(pq.read_table(io.BytesIO(data)).to_pylist(), default=str)


def _traces(served, folder: Path) -> list[str]:
    found = []
    for place, data in _objects(served, folder):
        for text in _texts(data, place):
            found += [f"{place}: {value}" for value in PERSONAL if value.encode() in text]
    items = _table_items(served)
    found += [f"table: {value}" for value in PERSONAL if value.encode() in orjson.dumps(items)]
    return found


def _table_items(served) -> list[dict]:
    if served.stack is None:
        return [served.repository.get(key) for key in _keys()]
    return boto3.client("dynamodb").scan(TableName=served.stack.table_name)["Items"]


def _keys():
    from domain.record_identity import RecordKey

    return [RecordKey(planted.DEALER, r) for r in ("SR-701", "SR-801")] + [RecordKey(planted.OTHER_DEALER, "SR-901")]


@pytest.fixture
def planted_pipeline(served, tmp_path):
    folder = tmp_path / "d"
    files = planted.raw_files()
    first_key, first_body, first_meta = files[0]
    served.raw.put_bytes(first_key, first_body.replace(b"Rahmawati", b"Rahmawati "), first_meta)  # an earlier version
    for key, body, meta in files:
        served.raw.put_bytes(key, body, meta)
    _ok(served, folder, "worker", "--drain")
    _ok(served, folder, "load")
    _ok(served, folder, "publish")
    assert len(_traces(served, folder)) >= 6  # the search finds them before
    return folder


def test_forget_leaves_no_trace_anywhere_and_the_others_as_they_were(served, planted_pipeline) -> None:
    folder = planted_pipeline
    others = {key: served.repository.get(key) for key in _keys()[1:]}

    done = _run(served, folder, "forget", "--dealer", planted.DEALER, "--customer", planted.CUSTOMER, "--json")

    assert done.returncode == 0, done.stderr
    request = json.loads(done.stdout)
    assert request["status"] == "erased" and request["traces"] == []
    assert _traces(served, folder) == []
    assert {key: served.repository.get(key) for key in _keys()[1:]} == others
    erased = served.repository.get(_keys()[0])
    assert erased["customer"] == {"customer_id": None, "customer_name": None}
    assert erased["vin"] == others[_keys()[1]]["vin"]  # the vehicle's history stays
    assert b'"Made Wirawan"' in served.raw.read_bytes(planted.CSV_KEY)
    status = json.loads(_ok(served, folder, "forget", "--status", request["request_id"]))
    assert status == request
    assert planted.CUSTOMER not in json.dumps(status)


def test_the_same_request_twice_changes_nothing_the_second_time(served, planted_pipeline) -> None:
    folder = planted_pipeline
    _ok(served, folder, "forget", "--dealer", planted.DEALER, "--customer", planted.CUSTOMER)
    before = {place: data for place, data in _objects(served, folder) if "erasures/" not in place}

    again = _ok(served, folder, "forget", "--dealer", planted.DEALER, "--customer", planted.CUSTOMER)

    assert "nothing held the person" in again and "nothing changed" in again
    after = {place: data for place, data in _objects(served, folder) if "erasures/" not in place}
    assert after.keys() == before.keys()
    changed = [place for place in before if before[place] != after[place] and not place.endswith(".sqlite")]
    assert changed == []
