"""How many rows a raw file holds, counted without the worker's reader: ``reconcile`` holds
the two counts against each other, so a fault in one cannot hide itself.

A JSON array's elements are counted by ijson (yajl's streaming C parser: bounded memory, any
size); JSON Lines by their non-blank lines; one object is one row. A file that is not valid
JSON past some byte (a malformed element or line, which the worker rejects as one row) is
counted up to there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import BinaryIO

import ijson

from application.processing.raw_reader import SINGLE_OBJECT_LIMIT
from application.raw_formats import BYTE_ORDER_MARK

_SCALARS = {"string", "number", "boolean", "null", "start_map", "start_array"}
_PEEK = 64 * 1024


@dataclass(frozen=True)
class RowCount:
    rows: int  # rows counted (elements begun, for an array cut short or broken)
    complete: bool  # False: not valid JSON past some point, so ``rows`` is a lower bound


def count_rows(stream: BinaryIO) -> RowCount:
    """Count the rows of the raw file ``stream`` (read from its start)."""
    head = stream.read(_PEEK)
    body = head.removeprefix(BYTE_ORDER_MARK).lstrip()
    if body.startswith(b"["):
        return _array_elements(head, stream)
    if not body.startswith(b"{"):
        return RowCount(0, False)  # neither an array nor objects: no JSON rows to count
    first = head + stream.readline()  # the head, to the end of its last line
    lines = sum(1 for line in first.split(b"\n") if line.strip())
    kept, size = [first], len(first)
    for line in stream:  # newline-delimited, in bounded memory
        lines += bool(line.strip())
        size += len(line)
        if size <= SINGLE_OBJECT_LIMIT:
            kept.append(line)
    if lines > 1 and body.startswith(b"{") and size <= SINGLE_OBJECT_LIMIT and _one_object(b"".join(kept)):
        return RowCount(1, True)  # one object over several lines: the worker reads it as one row
    return RowCount(lines, True)


def _array_elements(head: bytes, stream: BinaryIO) -> RowCount:
    class Rejoined:
        """The peeked head, then the rest of the stream."""

        def __init__(self) -> None:
            self._head = head.removeprefix(BYTE_ORDER_MARK)

        def read(self, size: int = -1) -> bytes:
            if size == 0:  # ijson asks for nothing first, to learn bytes from text
                return b""
            if self._head:
                chunk, self._head = self._head, b""
                return chunk
            return stream.read(size)

    rows = 0
    try:
        for prefix, event, _ in ijson.parse(Rejoined(), use_float=True):
            if prefix == "item" and event in _SCALARS:
                rows += 1
    except ijson.JSONError:
        return RowCount(rows, False)
    return RowCount(rows, True)


def _one_object(whole: bytes) -> bool:
    try:
        events = list(ijson.parse(whole.removeprefix(BYTE_ORDER_MARK)))
    except ijson.JSONError:
        return False
    return bool(events) and events[0][1] == "start_map"
