"""The order of a vehicle's history, the same in every record repository.

Newest ``service_date`` first; records at the same instant by dealer id, then record id, all
descending. Both databases sort on one text, the *history position*: the fixed-width UTC
date, the dealer id and the record id joined by U+001F, a character the contract refuses in
every text, so no two records share a position and the order is total: pages never repeat or
skip a record, and SQLite and DynamoDB give the same order. Standard library only (Glue).
"""

from __future__ import annotations

from collections.abc import Mapping

SEPARATOR = "\x1f"
POSITION = "history_position"  # the stored attribute (DynamoDB's index sort key, SQLite's column)


def history_position(record: Mapping[str, object]) -> str:
    """``record``'s position in its vehicle's history (its text order is the history's order)."""
    parts = (record.get("service_date") or "", record.get("dealer_id") or "", record.get("service_record_id") or "")
    return SEPARATOR.join(str(part) for part in parts)
