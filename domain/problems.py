"""Value types that describe what is wrong with a record or a file."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from domain.record_identity import dealer_id_of, id_as_read


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
        """As a valid row's is read (trimmed; a number as its text), so that it joins."""
        return id_as_read(self.record.get("service_record_id")) if isinstance(self.record, dict) else None

    @property
    def dealer_id(self) -> str | None:
        return dealer_id_of(self.record)
