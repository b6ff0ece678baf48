"""Value types that describe what is wrong with a record or a file."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Violation:
    """One rule one row broke: where (field path), which rule, and the offending value."""

    field: str
    rule: str
    message: str
    value: Any = None

    def to_dict(self) -> dict[str, Any]:
        return {"field": self.field, "rule": self.rule, "message": self.message, "value": self.value}


@dataclass(frozen=True)
class StructuralProblem:
    """A problem that makes a whole submission unacceptable (reported by SubmitRecord)."""

    index: int | None
    service_record_id: str | None
    field: str
    message: str
    rule: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class RejectedRow:
    """A row that did not pass cleaning, with the original record and every rule it broke."""

    index: int
    record: Any
    violations: list[Violation] = field(default_factory=list)

    @property
    def service_record_id(self) -> str | None:
        if isinstance(self.record, dict):
            value = self.record.get("service_record_id")
            return None if value is None else str(value)
        return None
