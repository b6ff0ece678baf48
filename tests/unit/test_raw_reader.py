"""Reading raw files: arrays, JSON Lines, one object; bad lines isolated; unreadable files."""

from __future__ import annotations

import io

import orjson
import pytest

from application.errors import UnreadableFile
from application.raw_reader import RECORD_INDEX, read_batches
from tests.factories import a_record


def read(data: bytes, chunk_bytes: int = 1 << 20):
    batches = list(read_batches(io.BytesIO(data), chunk_bytes))
    rows = [i for b in batches for i in b.table.column(RECORD_INDEX).to_pylist()]
    rejected = {r.index: r for b in batches for r in b.rejected}
    return batches, rows, rejected


def ids(batches) -> list[str]:
    return [i for b in batches for i in b.table.column("service_record_id").to_pylist()]


def jsonl(*records) -> bytes:
    return b"".join(orjson.dumps(r) + b"\n" for r in records)


def test_json_lines_with_blank_lines_and_crlf() -> None:
    data = orjson.dumps(a_record("A")) + b"\r\n\n   \n" + orjson.dumps(a_record("B")) + b"\r\n"
    batches, rows, rejected = read(data)
    assert ids(batches) == ["A", "B"] and rows == [0, 1] and not rejected


def test_json_array_pretty_printed() -> None:
    data = orjson.dumps([a_record("A"), a_record("B")], option=orjson.OPT_INDENT_2)
    batches, rows, _ = read(data)
    assert ids(batches) == ["A", "B"] and rows == [0, 1]


def test_one_pretty_printed_object_is_one_record() -> None:
    batches, rows, _ = read(b"\xef\xbb\xbf" + orjson.dumps(a_record("A"), option=orjson.OPT_INDENT_2))
    assert ids(batches) == ["A"] and rows == [0]


def test_bad_lines_are_rejected_alone_and_the_rest_is_kept() -> None:
    lines = [orjson.dumps(a_record(f"R{i}")) for i in range(40)]
    lines[3] = b'{"service_record_id": "R3", "vehicle": '
    lines[17] = b"[1, 2]"
    lines[30] = orjson.dumps(a_record("R30", {"vehicle.odometer_reading": "far"}))
    batches, rows, rejected = read(b"\n".join(lines))
    assert rows == [i for i in range(40) if i not in (3, 17, 30)]
    assert {i: [v.rule for v in r.violations] for i, r in rejected.items()} == {
        3: ["malformed_json"],
        17: ["not_an_object"],
        30: ["wrong_type"],
    }
    assert rejected[3].record == lines[3].decode()
    assert rejected[30].violations[0].field == "vehicle.odometer_reading"
    assert rejected[30].record["service_record_id"] == "R30"


def test_lax_types_are_normalised_not_rejected() -> None:
    record = a_record("A", {"vehicle.year": "2019", "vehicle.odometer_reading": 1000.0, "dealer.dealer_id": 77})
    batches, _, rejected = read(jsonl(a_record("B"), record))
    assert not rejected
    vehicle = batches[0].table.column("vehicle").to_pylist()[1]
    assert vehicle["year"] == 2019 and vehicle["odometer_reading"] == 1000
    assert batches[0].table.column("dealer").to_pylist()[1]["dealer_id"] == "77"


def test_small_chunks_give_the_same_rows_as_one_chunk() -> None:
    records = [a_record(f"R{i}") for i in range(50)]
    data = jsonl(*records)
    whole, whole_rows, _ = read(data)
    chunked, chunked_rows, _ = read(data, chunk_bytes=2_000)
    assert len(chunked) > 5
    assert ids(chunked) == ids(whole) and chunked_rows == whole_rows == list(range(50))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"  \n\t\n", "empty"),
        (b"[]", "array is empty"),
        (b"[ ]\n", "array is empty"),
        (b"42", "not a JSON array or JSON Lines"),
        (b'"text"', "not a JSON array or JSON Lines"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not a JSON array or JSON Lines"),
        (b"PK\x03\x04 zip", "not a JSON array or JSON Lines"),
        (b'[{"service_record_id": "A"}, ', "not valid JSON"),
    ],
)
def test_unreadable_files(data: bytes, message: str) -> None:
    with pytest.raises(UnreadableFile, match=message):
        read(data)
