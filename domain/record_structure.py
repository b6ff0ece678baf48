"""The structural check of one parsed record, shared by the API and the worker: the same
record gets the same verdict, and the same rule names, through either door."""

from __future__ import annotations

from typing import Any

import orjson
from pydantic import ValidationError

from domain.contract import ServiceRecord
from domain.limits import MAX_LINE_ITEMS, MAX_RECORD_BYTES
from domain.problems import Violation
from domain.rule_catalog import RULES

# pydantic's own error types, as our rules; our validators raise errors typed by rule name.
_RULE_OF_ERROR = {
    "missing": "required",
    "finite_number": "non_finite_number",
    "less_than_equal": "number_out_of_range",
    "greater_than_equal": "number_out_of_range",
    "too_long": "too_many_lines",
}


def field_path(loc: tuple[int | str, ...]) -> str:
    """A pydantic location as a contract path: ``service_details.parts_used[0].quantity``."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path or "(record)"


def _scalar(value: Any) -> Any:
    return value if isinstance(value, (str, int, float, bool)) or value is None else None


def _too_many_lines(record: dict[str, Any]) -> list[Violation]:
    details = record.get("service_details")
    if not isinstance(details, dict):
        return []
    return [
        Violation(f"service_details.{name}", "too_many_lines", RULES["too_many_lines"].message, None)
        for name in ("services_performed", "parts_used")
        if isinstance(details.get(name), list) and len(details[name]) > MAX_LINE_ITEMS
    ]


def structural_violations(record: Any) -> list[Violation]:
    """Every structural rule a parsed record breaks; empty when it is sound."""
    return structural_check(record)[0]


def structural_check(record: Any) -> tuple[list[Violation], dict[str, Any] | None]:
    """The rules a parsed record breaks, or, when it is sound, the record normalised as the
    contract reads it (numbers sent as text made numbers, ids made text, nulls left out)."""
    if not isinstance(record, dict):
        return [Violation("(record)", "not_an_object", RULES["not_an_object"].message, _scalar(record))], None
    size = len(orjson.dumps(record))
    if size > MAX_RECORD_BYTES:
        message = f"{RULES['record_too_large'].message}; this one is {size:,} bytes"
        return [Violation("(record)", "record_too_large", message)], None
    too_many = _too_many_lines(record)
    if too_many:  # before pydantic, which would judge every one of a million lines first
        return too_many, None
    try:
        model = ServiceRecord.model_validate(record)
    except ValidationError as err:
        violations = []
        for error in err.errors(include_url=False):
            error_type = str(error["type"])
            rule = error_type if error_type in RULES else _RULE_OF_ERROR.get(error_type, "wrong_type")
            value = None if rule in ("required", "too_many_lines") else _scalar(error.get("input"))
            violations.append(Violation(field_path(error["loc"]), rule, error["msg"], value))
        return violations, None
    return [], model.model_dump(exclude_none=True)
