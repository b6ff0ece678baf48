"""A service record's identity: the dealership that sent it and the id it gave the record.

Dealer systems number their records independently, so ``SR-1`` from two dealerships are two
records; only the dealership named in a record can correct it. Every store keys records by
this pair. Standard library only: the Glue loader (Python 3.9) imports it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple


class RecordKey(NamedTuple):
    dealer_id: str
    service_record_id: str


def key_of(record: Mapping[str, object]) -> RecordKey:
    """The identity of a cleaned record (top-level ``dealer_id`` and ``service_record_id``)."""
    return RecordKey(str(record["dealer_id"]), str(record["service_record_id"]))
