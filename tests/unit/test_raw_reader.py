"""Reading raw files: arrays, JSON Lines, one object; bad lines isolated; unreadable files."""

from __future__ import annotations

import io

import orjson
import pytest

from application.errors import UnreadableFile
from application.processing.raw_reader import RECORD_INDEX, read_batches
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
    assert batches[0].originals[2] == lines[2]
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
        (b"[]", "holds no records"),
        (b"[ ]\n", "holds no records"),
        (b"\n\n  \n", "empty"),
        (b"42", "not a JSON array or JSON Lines"),
        (b'"text"', "not a JSON array or JSON Lines"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not a JSON array or JSON Lines"),
        (b"PK\x03\x04 zip", "not a JSON array or JSON Lines"),
    ],
)
def test_unreadable_files(data: bytes, message: str) -> None:
    with pytest.raises(UnreadableFile, match=message):
        read(data)


def test_a_truncated_array_keeps_its_whole_elements_and_rejects_the_broken_tail() -> None:
    data = orjson.dumps([a_record("A"), a_record("B")])[:-40]
    batches, rows, rejected = read(data)
    assert ids(batches) == ["A"] and rows == [0]
    assert [v.rule for v in rejected[1].violations] == ["malformed_json"]
    assert rejected[1].record.lstrip().startswith('{"service_record_id":"B"')


def test_array_items_that_are_not_objects_are_rejected_one_by_one() -> None:
    data = b"[1, " + orjson.dumps(a_record("A")) + b', "x", null]'
    batches, rows, rejected = read(data)
    assert ids(batches) == ["A"] and rows == [1]
    assert {i: r.record for i, r in rejected.items()} == {0: 1, 2: "x", 3: None}


def test_chunked_arrays_give_the_same_rows_as_one_chunk() -> None:
    records = [a_record(f"R{i}", {"customer.customer_name": 'Budi "B" \\ [x], {y}'}) for i in range(60)]
    data = orjson.dumps(records, option=orjson.OPT_INDENT_2)
    whole, whole_rows, _ = read(data)
    chunked, chunked_rows, _ = read(data, chunk_bytes=1_000)
    assert len(chunked) > 10
    assert ids(chunked) == ids(whole) == [f"R{i}" for i in range(60)] and chunked_rows == whole_rows
    names = {c["customer_name"] for b in chunked for c in b.table.column("customer").to_pylist()}
    assert names == {'Budi "B" \\ [x], {y}'}


@pytest.mark.parametrize(
    "data", [b"{}\nnull\n{}", b'{"service_record_id": "A"}\nnull\n', b'{"x": 1}\n 7 \n[null]\n"s"']
)
def test_lines_that_are_not_objects_never_reach_pyarrow(data: bytes) -> None:
    # pyarrow reads a `null` line as a row of nulls, and crashes on a buffer that starts with one.
    batches, rows, rejected = read(data)
    assert {r.violations[0].rule for r in rejected.values()} == {"not_an_object"}
    assert len(rows) + len(rejected) == len([line for line in data.split(b"\n") if line.strip()])
