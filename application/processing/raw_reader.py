"""Reading a raw file (JSON Lines, a JSON array, or one JSON object) into Arrow batches.

Every format becomes blocks of JSON lines (arrays through ``ArraySplitter``), and each
block goes whole to pyarrow's multi-threaded JSON reader with the contract's schema. A block
it refuses (a line that is not JSON, a field of the wrong type) is split in halves until the
offending lines are found; only those go through the contract's structural check (the API's),
which either normalises them (``"2019"`` for a year) or rejects them with the rule broken.

Lines are screened before pyarrow sees them: invalid UTF-8 and over-long lines are rejected
at once; lines pyarrow would read differently from the contract (a list sent as ``null``)
are judged by the contract. Memory is bounded by the block size and ``MAX_BATCH_ROWS``: a
file of millions of tiny lines is read as many batches, and a line longer than
``MAX_LINE_BYTES`` is skipped without being held.
"""

from __future__ import annotations

import bisect
import codecs
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pa_json

from application.errors import UnreadableFile
from application.processing.batching import DEFAULT_CHUNK_BYTES
from application.processing.json_array_splitter import ArraySplitter, BrokenArray
from application.raw_formats import BYTE_ORDER_MARK, JSON_LINES, SNIFF_BYTES, UNKNOWN, content_type_of
from domain.limits import MAX_LINE_BYTES, MAX_RECORD_BYTES
from domain.problems import RejectedRow, Violation
from domain.raw_schema import RAW_SCHEMA
from domain.record_structure import structural_check
from domain.rule_catalog import RULES

RECORD_INDEX = "_record_index"
_CONVERT_SPAN = 4 * 1024 * 1024
SINGLE_OBJECT_LIMIT = 64 * 1024 * 1024
_SMALL_RUN = 8
_SHORT_LINE = 64  # lines this short are checked for being blank one by one
_WHITESPACE = b" \t\r\n"
_WHITESPACE_CODES = np.frombuffer(_WHITESPACE, dtype=np.uint8)
_MANY_SHORT_LINES = 1_000
MAX_BATCH_ROWS = 20_000  # bounds the rows (and rejected rows) held per batch, however short
_PREVIEW_BYTES = 1024  # of a line too long to keep, shown in the error store
# pyarrow reads an explicit null list as an absent one; the contract refuses it.
_NULL_LIST = re.compile(rb'"(?:services_performed|parts_used)"\s*:\s*null')
_CONTROL_ESCAPE = re.compile(rb"\\u00")
DELETE = 0x7F
_NON_FINITE = re.compile(rb"NaN|Infinity|\d[eE]\+?\d{3}")
_PARSE_OPTIONS = pa_json.ParseOptions(explicit_schema=RAW_SCHEMA, unexpected_field_behavior="ignore")
_ARROW_ERRORS = (pa.ArrowInvalid, pa.ArrowTypeError)


@dataclass
class Lines:
    """The non-blank lines of a block: one buffer and each line's start and end."""

    data: bytes | memoryview
    starts: np.ndarray
    ends: np.ndarray
    # A line longer than MAX_LINE_BYTES that was skipped: only its first bytes are here.
    skipped_long_line: bool = False

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
        short = np.flatnonzero(keep & (ends - starts <= _SHORT_LINE))
        if len(short) > _MANY_SHORT_LINES:  # millions of "{}": count their non-blank bytes at once
            nonblank = np.append(~np.isin(buffer, _WHITESPACE_CODES), False)
            bounds = np.column_stack((starts[short], ends[short])).ravel()
            keep[short] = np.add.reduceat(nonblank, bounds, dtype=np.int64)[::2] > 0
        else:
            for i in short:
                keep[i] = bool(bytes(data[starts[i] : ends[i]]).strip(_WHITESPACE))
        return cls(data, starts[keep], ends[keep])

    def split(self, max_rows: int) -> Iterator[Lines]:
        """Consecutive pieces of at most ``max_rows`` lines, each its own contiguous buffer."""
        if len(self) <= max_rows or self.skipped_long_line:
            yield self
            return
        for first in range(0, len(self), max_rows):
            starts, ends = self.starts[first : first + max_rows], self.ends[first : first + max_rows]
            offset = int(starts[0])
            yield Lines(memoryview(self.data)[offset : int(ends[-1])], starts - offset, ends - offset)

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
    # Whether any line holds a \u00XX escape, the only way a control character gets past
    # pyarrow: when False, cleaning need not look for them.
    may_hold_control_characters: bool = True


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


def _text(line: bytes) -> str:
    return line.decode("utf-8", "replace")


def displayable(line: bytes) -> object:
    """A line as the error store shows it: the parsed record, or its text if it is not JSON."""
    try:
        return orjson.loads(line)
    except orjson.JSONDecodeError:
        return _text(line)


def _why_not_json(line: bytes, err: orjson.JSONDecodeError) -> Violation:
    if "depth" in str(err):
        return Violation("(record)", "too_deeply_nested", RULES["too_deeply_nested"].message)
    if _NON_FINITE.search(line):
        try:  # Python's parser takes NaN, Infinity and numbers past a double: was that all?
            json.loads(line)
            return Violation("(record)", "non_finite_number", RULES["non_finite_number"].message)
        except (ValueError, RecursionError):
            pass
    return Violation("(record)", "malformed_json", f"{RULES['malformed_json'].message}: {err}")


def _normalise(index: int, line: bytes) -> bytes | RejectedRow:
    """A line pyarrow refused or the screen held back: its normalised JSON text, or the row
    rejected by the contract's structural check (the API's), with every rule it broke."""
    try:
        record: object = orjson.loads(line)
    except orjson.JSONDecodeError as err:
        return RejectedRow(index, _text(line), [_why_not_json(line, err)])
    violations, normalised = structural_check(record)
    if normalised is None:
        return RejectedRow(index, record, violations)
    return orjson.dumps(normalised)


def _screen(lines: Lines, first_index: int) -> tuple[dict[int, RejectedRow], set[int]]:
    """Lines rejected before parsing (by position), and lines the contract must judge.

    Invalid UTF-8 and lines over ``MAX_LINE_BYTES`` are rejected; lines over
    ``MAX_RECORD_BYTES`` (whitespace may shrink them) and explicit null lists go to the
    contract.
    """
    rejected: dict[int, RejectedRow] = {}
    to_judge: set[int] = set()
    lengths = lines.ends - lines.starts
    if lines.skipped_long_line:
        violation = Violation("(record)", "record_too_large", RULES["record_too_large"].message)
        return {0: RejectedRow(first_index, _text(lines[0]) + "...", [violation])}, to_judge
    for i in np.flatnonzero(lengths > MAX_RECORD_BYTES).tolist():
        if lengths[i] > MAX_LINE_BYTES:
            start = int(lines.starts[i])
            preview = bytes(lines.data[start : start + _PREVIEW_BYTES])
            violation = Violation("(record)", "record_too_large", RULES["record_too_large"].message)
            rejected[i] = RejectedRow(first_index + i, _text(preview) + "...", [violation])
        else:
            to_judge.add(i)
    for i in _invalid_utf8_lines(lines):
        message = f"{RULES['invalid_utf8'].message}: re-export it as UTF-8"
        rejected[i] = RejectedRow(first_index + i, _text(lines[i]), [Violation("(record)", "invalid_utf8", message)])
    return rejected, to_judge - set(rejected)


def _explicit_null_lists(table: pa.Table, lines: Lines) -> set[int]:
    """Rows whose services_performed or parts_used was sent as null: pyarrow reads that as
    absent, the contract refuses it. Only rows without a list are looked at."""
    details = table.column("service_details")
    no_list = pc.or_(
        pc.is_null(pc.struct_field(details, "services_performed")), pc.is_null(pc.struct_field(details, "parts_used"))
    )
    candidates = np.flatnonzero(no_list.to_numpy(zero_copy_only=False))
    return {int(i) for i in candidates if _NULL_LIST.search(lines[int(i)])}


def _may_hold_control_characters(lines: Lines) -> bool:
    """Whether a line may hold a control character: escaped, ``\\u0000`` to ``\\u001f`` or
    ``\\u007f``, or a raw DEL (0x7f), which JSON allows unescaped (pyarrow refuses the raw
    others). Decided per block, so a row's verdict never depends on its neighbours'."""
    data = np.frombuffer(lines.data, dtype=np.uint8)
    if (data == DELETE).any():
        return True
    return bool((data == ord("\\")).any()) and _CONTROL_ESCAPE.search(lines.data) is not None


def _invalid_utf8_lines(lines: Lines) -> list[int]:
    """Positions of the lines that are not valid UTF-8 (one decode of the whole block)."""
    bad: list[int] = []
    data = memoryview(lines.data)
    offset = 0
    while True:
        try:
            codecs.utf_8_decode(data[offset:], "strict", True)
            return bad
        except UnicodeDecodeError as err:
            position = int(np.searchsorted(lines.ends, offset + err.start))
            if position >= len(lines):  # in the newline after the last line: cannot happen
                return bad
            bad.append(position)
            offset = int(lines.ends[position])


def _starts_an_object(line: bytes) -> bool:
    return line.lstrip(_WHITESPACE)[:1] == b"{"


def _all_objects(lines: Lines) -> bool:
    """Whether every line starts with '{'. pyarrow must never see a line that does not:
    it reads a line ``null`` as a row of nulls, and crashes when a buffer starts with one."""
    firsts = np.frombuffer(lines.data, dtype=np.uint8)[lines.starts] if len(lines) else np.empty(0, np.uint8)
    return all(_starts_an_object(lines[int(i)]) for i in np.flatnonzero(firsts != ord("{")))


def parse_block(lines: Lines, first_index: int) -> RecordBatch:
    """Parse a block's lines, the first being record ``first_index`` of the file."""
    rejected, to_judge = _screen(lines, first_index)
    escapes = _may_hold_control_characters(lines)
    if not rejected and not to_judge and _all_objects(lines):
        longest = int((lines.ends - lines.starts).max()) if len(lines) else 0
        try:
            table = _arrow(lines.data, longest)
            to_judge = _explicit_null_lists(table, lines) if table.num_rows == len(lines) else {-1}
            if not to_judge:
                rows = np.arange(first_index, first_index + len(lines))
                return RecordBatch(_with_index(table, rows), lines, may_hold_control_characters=escapes)
            to_judge.discard(-1)
        except _ARROW_ERRORS:
            pass
    batch = _parse_one_by_one([lines[i] for i in range(len(lines))], first_index, rejected, to_judge)
    batch.may_hold_control_characters = escapes
    return batch


def parse_lines(lines: list[bytes], first_index: int) -> RecordBatch:
    """Parse JSON lines given as a list (blank ones are left out)."""
    return parse_block(Lines.of_list([line for line in lines if line.strip(_WHITESPACE)]), first_index)


def _parse_one_by_one(
    lines: list[bytes], first_index: int, screened: dict[int, RejectedRow], to_judge: set[int]
) -> RecordBatch:
    objects = [i for i, line in enumerate(lines) if _starts_an_object(line) and i not in screened and i not in to_judge]
    readable: list[int] = []
    _readable_lines([lines[i] for i in objects], 0, len(objects), readable)
    readable_set = {objects[i] for i in readable}
    kept, originals, rows, rejected = [], [], [], []
    for i, line in enumerate(lines):
        outcome = screened.get(i) or (line if i in readable_set else _normalise(first_index + i, line))
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
    sniffed = stream.read(min(SNIFF_BYTES, chunk_bytes))
    head = sniffed.removeprefix(BYTE_ORDER_MARK)
    first = head.lstrip()[:1]
    if not first:
        raise UnreadableFile("the file is empty: it holds no records", "empty")
    kind = content_type_of(head)  # the same sniffing that gave the upload its content type
    if first == b"[":
        blocks = _array_blocks(head, stream, chunk_bytes, ArraySplitter(offset=len(sniffed) - len(head)))
    elif kind != UNKNOWN:
        blocks = _object_or_line_blocks(head, stream, chunk_bytes, is_lines=kind == JSON_LINES)
    else:
        raise UnreadableFile(
            f"not a JSON array or JSON Lines file: it starts with {head.lstrip()[:16]!r}; "
            "send a JSON array of records or one JSON object per line",
            "not_json",
        )
    index = 0
    for block in blocks:
        for piece in block.split(MAX_BATCH_ROWS):
            batch = parse_block(piece, index)
            index += batch.table.num_rows + len(batch.rejected)
            yield batch
            del batch, piece
        del block
    if index == 0:
        raise UnreadableFile("the file holds no records (an empty array, or only blank lines)", "empty")


def _array_blocks(head: bytes, stream: BinaryIO, chunk_bytes: int, splitter: ArraySplitter) -> Iterator[Lines]:
    """A JSON array's elements as blocks of lines. A broken array (``BrokenArray``) is an
    unreadable file, with the byte where it breaks. The last block is held back until the end
    of the file is seen: an array that ends inside a string, its last line holding what were
    several elements (a quote missing early on turned every later bracket into string text),
    is broken too, not a file cut short whose last element is rejected."""
    held: Lines | None = None
    try:
        for block in _line_blocks(head, stream, chunk_bytes, splitter.feed):
            if held is not None:
                yield held
            held = block
    except BrokenArray as err:
        raise _broken(str(err)) from err
    if held is None:
        return
    if splitter.unclosed():
        raise _broken(str(splitter.unclosed()))
    if len(held) and splitter.depth > 0 and splitter.in_string and _elements_inside_a_string(held[len(held) - 1]):
        raise _broken(
            f"the JSON array is broken at byte {splitter.element_start:,}: a string in the element there "
            "is not closed (or has a quote too many), so the elements after it cannot be told apart"
        )
    yield held


def _broken(reason: str) -> UnreadableFile:
    return UnreadableFile(
        f"{reason}; fix the file (elements are objects separated by commas) and upload it again", "broken_array"
    )


_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_ELEMENT_BOUNDARY = re.compile(rb"\}\s*,\s*\{")


def _elements_inside_a_string(line: bytes) -> bool:
    """Whether ``line`` (the text of one element, read from its start outside any string)
    has an element boundary ``},{`` inside a string: one element's quotes did not pair."""
    strings = [match.span() for match in _STRING.finditer(line)]
    starts = [start for start, _ in strings]
    for boundary in _ELEMENT_BOUNDARY.finditer(line):
        i = bisect.bisect_right(starts, boundary.start()) - 1
        if i >= 0 and strings[i][1] > boundary.start():
            return True
    return False


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
        if cut < 0 and filled > MAX_LINE_BYTES:  # a line too long to hold: skip to its end
            preview = bytes(buffer[:_PREVIEW_BYTES])
            del buffer
            carry, end_of_file = _rest_after_line_end(stream, chunk_bytes, convert)
            yield Lines(preview, np.array([0]), np.array([len(preview)]), skipped_long_line=True)
            continue
        if cut < 0:  # no line end yet: a line longer than a chunk; read on
            carry = buffer[:filled]
            continue
        carry = buffer[cut + 1 : filled]
        lines = Lines.of_block(memoryview(buffer)[:cut])
        if len(lines):
            yield lines
        del lines, buffer  # the consumer may keep the block; this generator must not


def _rest_after_line_end(
    stream: BinaryIO, chunk_bytes: int, convert: Callable[[memoryview], None] | None
) -> tuple[bytearray, bool]:
    """Read past the end of the current line; returns what follows it, and whether the file
    ended. Memory stays one chunk, however long the line."""
    scratch = bytearray(min(chunk_bytes, _CONVERT_SPAN))
    while True:
        read = stream.readinto(memoryview(scratch))  # type: ignore[attr-defined]
        if not read:
            return bytearray(), True
        span = memoryview(scratch)[:read]
        if convert:
            convert(span)
        end = scratch.find(b"\n", 0, read)
        if end >= 0:
            return bytearray(span[end + 1 :]), False


def _object_or_line_blocks(head: bytes, stream: BinaryIO, chunk_bytes: int, is_lines: bool) -> Iterator[Lines]:
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
