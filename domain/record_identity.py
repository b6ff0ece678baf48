"""A service record's identity: the dealership that sent it and the id it gave the record.

Dealer systems number their records independently, so ``SR-1`` from two dealerships are two
records; only the dealership named in a record can correct it. Every store keys records by
this pair. Standard library only: the Glue loader (Python 3.9) imports it.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from decimal import Decimal
from typing import NamedTuple


class RecordKey(NamedTuple):
    dealer_id: str
    service_record_id: str


def key_of(record: Mapping[str, object]) -> RecordKey:
    """The identity of a cleaned record (top-level ``dealer_id`` and ``service_record_id``)."""
    return RecordKey(str(record["dealer_id"]), str(record["service_record_id"]))


def id_as_read(value: object) -> str | None:
    """An id (``service_record_id``, ``dealer.dealer_id``) as the contract reads it: text
    trimmed, a number as its text (12345 is "12345"), blank or any other type: none. What
    cleaning stores for a valid row, applied to a row as sent (a rejected row's, a dealer key's
    check)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        return None
    return value.strip() or None


def dealer_id_of(record: object) -> str | None:
    """The ``dealer.dealer_id`` of a record as sent (any JSON), as the contract reads it."""
    dealer = record.get("dealer") if isinstance(record, dict) else None
    return id_as_read(dealer.get("dealer_id")) if isinstance(dealer, dict) else None


class StoredVersion(NamedTuple):
    """Which version of a record a table holds: when it was ingested, and a hash of what it
    holds (``content_hash``), so that a record changed in place is told from the one loaded."""

    ingested_at: str
    content_hash: str


def content_hash(record: Mapping[str, object]) -> str:
    """SHA-256 of the record as canonical JSON: keys sorted, and every number written one way
    (650000 and 650000.0 alike; NaN and infinities as null), as a record reads back from any
    store (DynamoDB keeps numbers as decimals, and no NaN). Reconcile holds the table's records
    against their cleaned lines with it."""
    text = json.dumps(_canonical(record), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _canonical(value: object) -> object:
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float, Decimal)):
        if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
            return None
        number = Decimal(str(value))
        return format(number.normalize(), "f") if number == number.to_integral_value() else str(number.normalize())
    if isinstance(value, Mapping):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    return str(value)
