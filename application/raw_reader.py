"""Reading a raw file (JSON array, one JSON object, or JSON Lines) into Arrow batches.

The fast path hands whole blocks of lines to pyarrow's JSON reader with the contract's
schema. A block it refuses (a line that is not JSON, or a field of the wrong type) is
split in halves until the offending lines are found; only those go through pydantic,
which either normalises them (``"2019"`` for a year) or rejects them with the reason.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import ijson
import orjson
import pyarrow as pa
import pyarrow.json as pa_json
from pydantic import ValidationError

from application.errors import UnreadableFile
from domain.contract import ServiceRecord
from domain.problems import RejectedRow, Violation
from domain.raw_schema import RAW_SCHEMA
from domain.rules import RULES

RECORD_INDEX = "_record_index"
DEFAULT_CHUNK_BYTES = 64 * 1024 * 1024
WHOLE_ARRAY_LIMIT = 64 * 1024 * 1024
_SNIFF_BYTES = 64 * 1024
_SMALL_RUN = 8
_PARSE_OPTIONS = pa_json.ParseOptions(explicit_schema=RAW_SCHEMA, unexpected_field_behavior="ignore")


@dataclass
class RecordBatch:
    """Rows that parsed (``table``, in file order, with their record index) and the rest.

    ``lines`` holds each table row's JSON text, to show the original of a rejected row.
    """

    table: pa.Table
    lines: list[bytes]
    rejected: list[RejectedRow] = field(default_factory=list)


def _arrow(lines: list[bytes]) -> pa.Table:
    data = b"\n".join(lines)
    block = max(1 << 20, max(map(len, lines), default=0) + 2)
    options = pa_json.ReadOptions(block_size=block, use_threads=True)
    table = pa_json.read_json(io.BytesIO(data), read_options=options, parse_options=_PARSE_OPTIONS)
    if table.num_rows != len(lines):  # pragma: no cover - a blank line slipped through
        raise pa.ArrowInvalid("row count differs from line count")
    return table


def _readable_lines(lines: list[bytes], lo: int, hi: int, out: list[int]) -> None:
    """Positions in ``lines[lo:hi]`` that pyarrow reads as they are (appended to ``out``)."""
    if hi - lo <= _SMALL_RUN:
        for i in range(lo, hi):
            try:
                _arrow([lines[i]])
                out.append(i)
            except (pa.ArrowInvalid, pa.ArrowTypeError):
                pass
        return
    try:
        _arrow(lines[lo:hi])
        out.extend(range(lo, hi))
    except (pa.ArrowInvalid, pa.ArrowTypeError):
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
        return RejectedRow(
            index, text, [Violation("(record)", "malformed_json", f"{RULES['malformed_json'].message}: {err}")]
        )
    if not isinstance(record, dict):
        return RejectedRow(
            index, record, [Violation("(record)", "not_an_object", RULES["not_an_object"].message, record)]
        )
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


def parse_lines(lines: list[bytes], first_index: int) -> RecordBatch:
    """Parse JSON lines (no blank ones) whose first is record ``first_index`` of the file."""
    indices = range(first_index, first_index + len(lines))
    try:
        table = _arrow(lines)
        kept = lines
        rows = list(indices)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        readable: list[int] = []
        _readable_lines(lines, 0, len(lines), readable)
        readable_set = set(readable)
        kept, rows, rejected = [], [], []
        for i, line in enumerate(lines):
            if i in readable_set:
                kept.append(line)
                rows.append(indices[i])
                continue
            outcome = _normalise(indices[i], line)
            if isinstance(outcome, RejectedRow):
                rejected.append(outcome)
                continue
            kept.append(outcome)
            rows.append(indices[i])
        table = _arrow(kept) if kept else RAW_SCHEMA.empty_table()
        return RecordBatch(_with_index(table, rows), kept, rejected)
    return RecordBatch(_with_index(table, rows), kept)


def _with_index(table: pa.Table, rows: list[int]) -> pa.Table:
    return table.append_column(RECORD_INDEX, pa.array(rows, pa.int64()))


def read_batches(stream: BinaryIO, chunk_bytes: int = DEFAULT_CHUNK_BYTES) -> Iterator[RecordBatch]:
    """Batches of records from a raw file, in file order.

    Raises ``UnreadableFile`` for a file that holds no records at all: empty, not JSON,
    or a top-level value that is neither an array nor objects.
    """
    head = stream.read(min(_SNIFF_BYTES, chunk_bytes)).removeprefix(b"\xef\xbb\xbf")  # a UTF-8 byte-order mark
    first = head.lstrip()[:1]
    if not first:
        raise UnreadableFile("the file is empty: it holds no records", "empty")
    if first == b"[":
        yield from _array_batches(head, stream, chunk_bytes)
    elif first == b"{":
        yield from _object_or_lines_batches(head, stream, chunk_bytes)
    else:
        raise UnreadableFile(
            f"not a JSON array or JSON Lines file: it starts with {head.lstrip()[:16]!r}; "
            "send a JSON array of records or one JSON object per line",
            "not_json",
        )


def _blocks(head: bytes, stream: BinaryIO, chunk_bytes: int) -> Iterator[list[bytes]]:
    """Non-blank lines, in blocks of about ``chunk_bytes``."""
    pending = head
    while True:
        more = stream.read(chunk_bytes)
        pending += more
        if not more:
            lines = pending.split(b"\n")
            pending = b""
        else:
            cut = pending.rfind(b"\n")
            if cut < 0:
                continue
            lines = pending[:cut].split(b"\n")
            pending = pending[cut + 1 :]
        block = [line for line in lines if line.strip()]
        if block:
            yield block
        if not more:
            return


def _object_or_lines_batches(head: bytes, stream: BinaryIO, chunk_bytes: int) -> Iterator[RecordBatch]:
    first_line = head.lstrip().split(b"\n", 1)[0]
    try:
        is_lines = isinstance(orjson.loads(first_line), dict)
    except orjson.JSONDecodeError:
        is_lines = False
    if not is_lines:
        # One (pretty-printed) object spread over several lines?
        rest = stream.read(WHOLE_ARRAY_LIMIT)
        whole = head + rest
        if len(rest) < WHOLE_ARRAY_LIMIT:
            try:
                record = orjson.loads(whole)
            except orjson.JSONDecodeError:
                record = None
            if isinstance(record, dict):
                yield parse_lines([orjson.dumps(record)], 0)
                return
        head = whole
    index = 0
    for block in _blocks(head, stream, chunk_bytes):
        batch = parse_lines(block, index)
        index += len(block)
        yield batch


def _array_batches(head: bytes, stream: BinaryIO, chunk_bytes: int) -> Iterator[RecordBatch]:
    rest = stream.read(WHOLE_ARRAY_LIMIT)
    if len(rest) < WHOLE_ARRAY_LIMIT:
        try:
            items = orjson.loads(head + rest)
        except orjson.JSONDecodeError as err:
            raise UnreadableFile(f"not valid JSON: {err}", "invalid_json") from err
        if not items:
            raise UnreadableFile("the array is empty: it holds no records", "empty")
        yield from _item_batches(iter(items), chunk_bytes)
        return
    joined = io.BufferedReader(_Chain([head, rest], stream))  # type: ignore[arg-type]
    try:
        yield from _item_batches(ijson.items(joined, "item", use_float=True), chunk_bytes)
    except ijson.JSONError as err:
        raise UnreadableFile(f"not valid JSON: {err}", "invalid_json") from err


def _item_batches(items: Iterator[Any], chunk_bytes: int) -> Iterator[RecordBatch]:
    index = 0
    block: list[bytes] = []
    size = 0
    for item in items:
        line = orjson.dumps(item)
        block.append(line)
        size += len(line)
        if size >= chunk_bytes:
            yield parse_lines(block, index)
            index += len(block)
            block, size = [], 0
    if block:
        yield parse_lines(block, index)


class _Chain(io.RawIOBase):
    """Bytes already read, followed by the rest of a stream, as one readable stream."""

    def __init__(self, parts: list[bytes], stream: BinaryIO) -> None:
        self._parts = [p for p in parts if p]
        self._stream = stream

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while self._parts:
            part = self._parts[0]
            n = min(len(buffer), len(part))
            buffer[:n] = part[:n]
            if n == len(part):
                self._parts.pop(0)
            else:
                self._parts[0] = part[n:]
            return n
        data = self._stream.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)
