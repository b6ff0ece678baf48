"""Reading a raw file (JSON Lines, a JSON array, or one JSON object) into Arrow batches.

Every format becomes blocks of JSON lines (arrays through ``ArraySplitter``), and each
block goes whole to pyarrow's multi-threaded JSON reader with the contract's schema. A block
it refuses (a line that is not JSON, a field of the wrong type) is split in halves until the
offending lines are found; only those go through pydantic, which either normalises them
(``"2019"`` for a year) or rejects them with the reason. Memory is bounded by the block size.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.json as pa_json
from pydantic import ValidationError

from application.errors import UnreadableFile
from application.json_array_splitter import ArraySplitter
from domain.contract import ServiceRecord
from domain.problems import RejectedRow, Violation
from domain.raw_schema import RAW_SCHEMA
from domain.rules import RULES

RECORD_INDEX = "_record_index"
DEFAULT_CHUNK_BYTES = 10 * 1024 * 1024  # about 12,500 records; bounds memory per batch
_CONVERT_SPAN = 4 * 1024 * 1024
SINGLE_OBJECT_LIMIT = 64 * 1024 * 1024
_SNIFF_BYTES = 64 * 1024
_SMALL_RUN = 8
_SHORT_LINE = 64  # lines this short are checked for being blank one by one
_WHITESPACE = b" \t\r\n"
_PARSE_OPTIONS = pa_json.ParseOptions(explicit_schema=RAW_SCHEMA, unexpected_field_behavior="ignore")
_ARROW_ERRORS = (pa.ArrowInvalid, pa.ArrowTypeError)


@dataclass
class Lines:
    """The non-blank lines of a block: one buffer and each line's start and end."""

    data: bytes | memoryview
    starts: np.ndarray
    ends: np.ndarray

    def __len__(self) -> int:
        return len(self.starts)

    def __getitem__(self, i: int) -> bytes:
        return bytes(self.data[int(self.starts[i]) : int(self.ends[i])])

    @classmethod
    def of_block(cls, data: bytes | memoryview) -> Lines:
        """Split at newlines; blank lines (empty or whitespace only) are left out."""
        buffer = np.frombuffer(data, dtype=np.uint8)
        newlines = np.flatnonzero(buffer == 10)
        starts = np.concatenate(([0], newlines + 1))
        ends = np.concatenate((newlines, [len(data)]))
        keep = ends > starts
        for i in np.flatnonzero(keep & (ends - starts <= _SHORT_LINE)):
            keep[i] = bool(bytes(data[starts[i] : ends[i]]).strip(_WHITESPACE))
        return cls(data, starts[keep], ends[keep])

    @classmethod
    def of_list(cls, lines: list[bytes]) -> Lines:
        lengths = np.fromiter(map(len, lines), dtype=np.int64, count=len(lines))
        ends = np.cumsum(lengths + 1) - 1
        return cls(b"\n".join(lines), ends - lengths, ends)


@dataclass
class RecordBatch:
    """Rows that parsed (``table``, in file order, with their record index) and the rest.

    ``originals`` holds each table row's JSON text as sent, to show a rejected row.
    """

    table: pa.Table
    originals: Lines
    rejected: list[RejectedRow] = field(default_factory=list)


def _arrow(data: bytes | memoryview, longest_line: int) -> pa.Table:
    options = pa_json.ReadOptions(block_size=max(1 << 20, longest_line + 2), use_threads=True)
    source = pa.BufferReader(pa.py_buffer(data))  # no copy
    return pa_json.read_json(source, read_options=options, parse_options=_PARSE_OPTIONS)


def _arrow_lines(lines: list[bytes]) -> pa.Table:
    table = _arrow(b"\n".join(lines), max(map(len, lines), default=0))
    if table.num_rows != len(lines):
        raise pa.ArrowInvalid("more than one JSON value on a line")
    return table


def _readable_lines(lines: list[bytes], lo: int, hi: int, out: list[int]) -> None:
    """Positions in ``lines[lo:hi]`` that pyarrow reads as they are (appended to ``out``)."""
    if hi - lo <= _SMALL_RUN:
        for i in range(lo, hi):
            try:
                _arrow_lines([lines[i]])
                out.append(i)
            except _ARROW_ERRORS:
                pass
        return
    try:
        _arrow_lines(lines[lo:hi])
        out.extend(range(lo, hi))
    except _ARROW_ERRORS:
        mid = (lo + hi) // 2
        _readable_lines(lines, lo, mid, out)
        _readable_lines(lines, mid, hi, out)


def _path(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(p) for p in loc) or "(record)"


def _normalise(index: int, line: bytes) -> bytes | RejectedRow:
    """A line pyarrow refused: its normalised JSON text, or the row rejected with why."""
    try:
        record: Any = orjson.loads(line)
    except orjson.JSONDecodeError as err:
        text = line.decode("utf-8", "replace")
        message = f"{RULES['malformed_json'].message}: {err}"
        return RejectedRow(index, text, [Violation("(record)", "malformed_json", message)])
    if not isinstance(record, dict):
        message = RULES["not_an_object"].message
        return RejectedRow(index, record, [Violation("(record)", "not_an_object", message, record)])
    try:
        model = ServiceRecord.model_validate(record)
    except ValidationError as err:
        violations = []
        for e in err.errors(include_url=False):
            rule = "required" if e["type"] == "missing" else "wrong_type"
            value = e["input"] if isinstance(e["input"], (str, int, float, bool)) and rule != "required" else None
            violations.append(Violation(_path(e["loc"]), rule, e["msg"], value))
        return RejectedRow(index, record, violations)
    return orjson.dumps(model.model_dump(exclude_none=True))


def _starts_an_object(line: bytes) -> bool:
    return line.lstrip(_WHITESPACE)[:1] == b"{"


def _all_objects(lines: Lines) -> bool:
    """Whether every line starts with '{'. pyarrow must never see a line that does not:
    it reads a line ``null`` as a row of nulls, and crashes when a buffer starts with one."""
    firsts = np.frombuffer(lines.data, dtype=np.uint8)[lines.starts] if len(lines) else np.empty(0, np.uint8)
    return all(_starts_an_object(lines[int(i)]) for i in np.flatnonzero(firsts != ord("{")))


def parse_block(lines: Lines, first_index: int) -> RecordBatch:
    """Parse a block's lines, the first being record ``first_index`` of the file."""
    if _all_objects(lines):
        longest = int((lines.ends - lines.starts).max()) if len(lines) else 0
        try:
            table = _arrow(lines.data, longest)
            if table.num_rows == len(lines):
                return RecordBatch(_with_index(table, np.arange(first_index, first_index + len(lines))), lines)
        except _ARROW_ERRORS:
            pass
    return _parse_one_by_one([lines[i] for i in range(len(lines))], first_index)


def parse_lines(lines: list[bytes], first_index: int) -> RecordBatch:
    """Parse JSON lines given as a list (no blank ones)."""
    return parse_block(Lines.of_list(lines), first_index)


def _parse_one_by_one(candidates: list[bytes], first_index: int) -> RecordBatch:
    lines = [line for line in candidates if line.strip(_WHITESPACE)]
    objects = [i for i, line in enumerate(lines) if _starts_an_object(line)]
    readable: list[int] = []
    _readable_lines([lines[i] for i in objects], 0, len(objects), readable)
    readable_set = {objects[i] for i in readable}
    kept, originals, rows, rejected = [], [], [], []
    for i, line in enumerate(lines):
        outcome = line if i in readable_set else _normalise(first_index + i, line)
        if isinstance(outcome, RejectedRow):
            rejected.append(outcome)
            continue
        kept.append(outcome)
        originals.append(line)
        rows.append(first_index + i)
    table = _arrow_lines(kept) if kept else RAW_SCHEMA.empty_table()
    return RecordBatch(_with_index(table, np.array(rows, dtype=np.int64)), Lines.of_list(originals), rejected)


def _with_index(table: pa.Table, rows: np.ndarray) -> pa.Table:
    return table.append_column(RECORD_INDEX, pa.array(rows, pa.int64()))


def read_batches(stream: BinaryIO, chunk_bytes: int = DEFAULT_CHUNK_BYTES) -> Iterator[RecordBatch]:
    """Batches of records from a raw file, in file order, about ``chunk_bytes`` at a time.

    Raises ``UnreadableFile`` for a file that holds no records at all: empty, not JSON,
    or a top-level value that is neither an array nor objects.
    """
    head = stream.read(min(_SNIFF_BYTES, chunk_bytes)).removeprefix(b"\xef\xbb\xbf")  # a UTF-8 byte-order mark
    first = head.lstrip()[:1]
    if not first:
        raise UnreadableFile("the file is empty: it holds no records", "empty")
    if first == b"[":
        blocks = _line_blocks(head, stream, chunk_bytes, ArraySplitter().feed)
    elif first == b"{":
        blocks = _object_or_line_blocks(head, stream, chunk_bytes)
    else:
        raise UnreadableFile(
            f"not a JSON array or JSON Lines file: it starts with {head.lstrip()[:16]!r}; "
            "send a JSON array of records or one JSON object per line",
            "not_json",
        )
    index = 0
    for block in blocks:
        batch = parse_block(block, index)
        index += batch.table.num_rows + len(batch.rejected)
        yield batch
        del batch, block
    if index == 0:
        raise UnreadableFile("the file holds no records (an empty array, or only blank lines)", "empty")


def _line_blocks(
    head: bytes, stream: BinaryIO, chunk_bytes: int, convert: Callable[[memoryview], None] | None = None
) -> Iterator[Lines]:
    """Blocks of about ``chunk_bytes``, each ending at a line end, read straight into their
    buffer; ``convert`` rewrites each newly read span in place (JSON arrays)."""
    carry = bytearray(head)
    if convert:
        convert(memoryview(carry))  # the head is small
    end_of_file = False
    while not end_of_file:
        buffer = bytearray(len(carry) + chunk_bytes)
        buffer[: len(carry)] = carry
        filled = len(carry)
        while filled < len(buffer):
            read = stream.readinto(memoryview(buffer)[filled:])  # type: ignore[attr-defined]
            if not read:
                end_of_file = True
                break
            if convert:  # in small spans: the conversion's scratch arrays grow with the span
                for start in range(filled, filled + read, _CONVERT_SPAN):
                    convert(memoryview(buffer)[start : min(start + _CONVERT_SPAN, filled + read)])
            filled += read
        cut = filled if end_of_file else buffer.rfind(b"\n", 0, filled)
        if cut < 0:  # no line end yet: a line longer than a chunk; read on
            carry = buffer[:filled]
            continue
        carry = buffer[cut + 1 : filled]
        lines = Lines.of_block(memoryview(buffer)[:cut])
        if len(lines):
            yield lines
        del lines, buffer  # the consumer may keep the block; this generator must not


def _object_or_line_blocks(head: bytes, stream: BinaryIO, chunk_bytes: int) -> Iterator[Lines]:
    first_line = head.lstrip().split(b"\n", 1)[0]
    try:
        is_lines = isinstance(orjson.loads(first_line), dict)
    except orjson.JSONDecodeError:
        is_lines = False
    if not is_lines:
        # One (pretty-printed) object spread over several lines?
        rest = stream.read(SINGLE_OBJECT_LIMIT)
        whole = head + rest
        if len(rest) < SINGLE_OBJECT_LIMIT:
            try:
                record = orjson.loads(whole)
            except orjson.JSONDecodeError:
                record = None
            if isinstance(record, dict):
                yield Lines.of_list([orjson.dumps(record)])
                return
        head = whole
    yield from _line_blocks(head, stream, chunk_bytes)
