"""Structural check of a whole submission (a JSON array of records, or one record)."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from domain.contract import ServiceRecord
from domain.problems import StructuralProblem


def _field_path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path or "(record)"


def as_record_list(payload: Any) -> list[Any] | None:
    """A submission's records: an array as is, one object as a batch of one, else None."""
    if isinstance(payload, list):
        return payload
    if isinstance(payload, dict):
        return [payload]
    return None


def check_submission(payload: Any) -> list[StructuralProblem]:
    """Every structural problem of a parsed submission; empty when it is sound."""
    records = as_record_list(payload)
    if records is None:
        kind = type(payload).__name__ if payload is not None else "null"
        return [
            StructuralProblem(
                None,
                None,
                "(body)",
                f"expected a JSON array of service records or one record object, got {kind}",
            )
        ]
    if not records:
        return [StructuralProblem(None, None, "(body)", "the array is empty: send at least one record")]
    problems: list[StructuralProblem] = []
    for index, record in enumerate(records):
        problems.extend(check_record(index, record))
    return problems


def check_record(index: int, record: Any) -> list[StructuralProblem]:
    """Structural problems of one record (types and required fields)."""
    if not isinstance(record, dict):
        return [StructuralProblem(index, None, "(record)", f"expected an object, got {type(record).__name__}")]
    raw_id = record.get("service_record_id")
    record_id = None if raw_id is None else str(raw_id)
    try:
        ServiceRecord.model_validate(record)
    except ValidationError as err:
        return [
            StructuralProblem(index, record_id, _field_path(e["loc"]), e["msg"]) for e in err.errors(include_url=False)
        ]
    return []
