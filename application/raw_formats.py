"""The formats of the files the pipeline stores, and their content types."""

from __future__ import annotations

import orjson

JSON = "application/json"
JSON_LINES = "application/x-ndjson"
UNKNOWN = "application/octet-stream"
PARQUET = "application/vnd.apache.parquet"
SNIFF_BYTES = 64 * 1024
BYTE_ORDER_MARK = b"\xef\xbb\xbf"


def content_type_of(head: bytes) -> str:
    """The content type of a raw file from its first bytes: a JSON array or one (possibly
    pretty-printed) object is JSON; an object on its first line is JSON Lines."""
    text = head.removeprefix(BYTE_ORDER_MARK).lstrip()
    if text.startswith(b"["):
        return JSON
    if not text.startswith(b"{"):
        return UNKNOWN
    try:
        first_line_is_an_object = isinstance(orjson.loads(text.split(b"\n", 1)[0]), dict)
    except orjson.JSONDecodeError:
        first_line_is_an_object = False
    return JSON_LINES if first_line_is_an_object else JSON
