"""Opaque page tokens: where a listing stopped, as URL-safe base64 of compact JSON."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from application.errors import BadPageToken


def encode_page(position: Any) -> str:
    """A token for ``position`` (any JSON value)."""
    return base64.urlsafe_b64encode(json.dumps(position, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_page(token: str) -> Any:
    """The position a token holds; ``BadPageToken`` for anything this module did not make."""
    try:
        return json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (ValueError, binascii.Error, UnicodeDecodeError) as err:
        raise BadPageToken(f"the page token {token[:40]!r} is not one this API gave: start again without it") from err


def decode_texts(token: str, count: int) -> list[str]:
    """A token that holds a list of ``count`` strings (a sort key), or ``BadPageToken``."""
    position = decode_page(token)
    if not (isinstance(position, list) and len(position) == count and all(isinstance(v, str) for v in position)):
        raise BadPageToken(f"the page token {token[:40]!r} is not one this API gave: start again without it")
    return position
