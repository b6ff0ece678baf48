"""A raw file rewritten without one person's data, every other byte as it was.

Each record of the target (``domain.erasure.ErasureTarget.holds``) is replaced, in place, by
its erased form (``domain.erasure.erased``), written as compact JSON; every other record,
separator and line keeps its bytes, so the other records of the file read exactly as before.
JSON Lines are rewritten line by line; a JSON array element by element (the elements found by
``ArraySplitter``, which keeps byte positions); a single object whole.

What cannot be read as records (a line that is not JSON, a file that is not JSON at all: the
error store keeps such files whole) may still hold the person: there, a line naming the dealer
and the customer's id (as quoted strings) becomes ``"[erased]"`` whole, and on other lines
naming the dealer the names their readable records gave are replaced. The file is read into memory: the
files that hold a given person are few, and the worker bounds what it accepts.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import orjson

from application.processing.json_array_splitter import NEWLINE, ArraySplitter, BrokenArray
from application.raw_formats import BYTE_ORDER_MARK, JSON, JSON_LINES, content_type_of
from domain.erasure import ErasureTarget, erased

REDACTED = b'"[erased]"'


@dataclass
class Rewritten:
    """A raw file's new bytes, how many records lost their person, and the names they gave."""

    data: bytes
    records: int = 0
    redactions: int = 0  # quoted occurrences replaced in text that is not a record
    names: set[str] = field(default_factory=set)

    @property
    def changed(self) -> bool:
        return bool(self.records or self.redactions)


def rewrite_raw(data: bytes, target: ErasureTarget, names: set[str] | None = None) -> Rewritten:
    """``data`` without ``target``'s records' person; ``names`` are names known from other
    files (redacted in unreadable text too)."""
    result = Rewritten(data)
    body = data[len(BYTE_ORDER_MARK) :] if data.startswith(BYTE_ORDER_MARK) else data
    prefix = data[: len(data) - len(body)]
    kind = content_type_of(body[: 64 * 1024])
    pieces: list[bytes] | None = None
    if kind == JSON_LINES:
        pieces = _lines(body, target, result)
    elif kind == JSON and body.lstrip().startswith(b"["):
        pieces = _array(body, target, result)
    elif kind == JSON:
        pieces = _one_object(body, target, result)
    if pieces is None:  # not records at all: an unreadable file, kept whole by the pipeline
        pieces = [_redact(body, target, result, names)]
    result.data = prefix + b"".join(pieces)
    return result


def _erase(text: bytes, target: ErasureTarget, result: Rewritten) -> bytes | None:
    """The erased form of ``text`` if it is one of ``target``'s records; None otherwise."""
    try:
        record = orjson.loads(text)
    except orjson.JSONDecodeError:
        return None
    if not target.holds(record):
        return None
    customer = record.get("customer")
    if isinstance(customer, dict) and isinstance(customer.get("customer_name"), str):
        result.names.add(customer["customer_name"])
    without = erased(record)
    if without == record:
        return text  # nothing of the person in it (already erased): its bytes stay
    result.records += 1
    return orjson.dumps(without)


def _lines(body: bytes, target: ErasureTarget, result: Rewritten) -> list[bytes]:
    pieces = []
    for line in body.splitlines(keepends=True):
        content = line.rstrip(b"\r\n")
        ending = line[len(content) :]
        stripped = content.strip()
        if not stripped:
            pieces.append(line)
            continue
        new = _erase(stripped, target, result)
        if new is None:
            new = _redact(content, target, result, None) if _unparsable(stripped) else content
            pieces.append(new + ending)
            continue
        start = content.index(stripped[:1])
        pieces.append(content[:start] + new + content[start + len(stripped) :] + ending)
    return pieces


def _array(body: bytes, target: ErasureTarget, result: Rewritten) -> list[bytes] | None:
    """Element by element: ``ArraySplitter`` turns a copy into one element per line, at the
    same byte positions, so each element's span in ``body`` is its line's."""
    copy = bytearray(body)
    try:
        ArraySplitter().feed(memoryview(copy))
    except BrokenArray:
        return None
    pieces, done, start = [], 0, 0
    while start <= len(copy):
        end = copy.find(NEWLINE, start)
        end = len(copy) if end < 0 else end
        line = bytes(copy[start:end])
        text = line.strip()
        if text:
            first = start + line.index(text[:1])
            original = body[first : first + len(text)]
            new = _erase(original, target, result)
            if new is None and _unparsable(original):
                new = _redact(original, target, result, None)
            if new is not None and new != original:
                pieces += [body[done:first], new]
                done = first + len(text)
        start = end + 1
    pieces.append(body[done:])
    return pieces


def _one_object(body: bytes, target: ErasureTarget, result: Rewritten) -> list[bytes] | None:
    text = body.strip()
    new = _erase(text, target, result)
    if new is None:
        return None if _unparsable(text) else [body]
    start = body.index(text[:1])
    return [body[:start], new, body[start + len(text) :]]


def _unparsable(text: bytes) -> bool:
    try:
        orjson.loads(text)
    except orjson.JSONDecodeError:
        return True
    return False


def _redact(text: bytes, target: ErasureTarget, result: Rewritten, names: set[str] | None) -> bytes:
    """Text that is not records: each line naming the dealer and the customer's id (both as
    quoted strings) is erased whole, since which of its other values are the person's cannot be
    told; elsewhere on lines naming the dealer, their known names are replaced."""
    if target.customer_id is None or orjson.dumps(target.dealer) not in text:
        return text
    customer = orjson.dumps(target.customer_id.strip())
    known = sorted({n for n in (*result.names, *(names or ())) if n}, key=len, reverse=True)
    lines = []
    for line in text.splitlines(keepends=True):
        content = line.rstrip(b"\r\n")
        if orjson.dumps(target.dealer) in content and customer in content:
            lines.append(REDACTED + line[len(content) :])
            result.redactions += 1
            continue
        for name in known:
            quoted = orjson.dumps(name)
            found = content.count(quoted)
            if found and orjson.dumps(target.dealer) in content:
                content = content.replace(quoted, REDACTED)
                result.redactions += found
        lines.append(content + line[len(line.rstrip(b"\r\n")) :])
    return b"".join(lines)
