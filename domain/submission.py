"""Structural check of a whole submission (a JSON array of records, or one record)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from domain.limits import MAX_LISTED_PROBLEMS
from domain.problems import StructuralProblem
from domain.record_structure import structural_violations

# Counting stops here, so that a hostile body costs bounded time; the answer then says "at least".
MAX_COUNTED_PROBLEMS = 50_000


@dataclass
class SubmissionProblems:
    """The first problems of a submission (``listed``), and how many there are in all."""

    listed: list[StructuralProblem] = field(default_factory=list)
    problem_count: int = 0
    records_with_problems: int = 0
    counted_all: bool = True

    def __bool__(self) -> bool:
        return self.problem_count > 0

    def add(self, problems: list[StructuralProblem]) -> None:
        if problems:
            self.records_with_problems += 1
            self.problem_count += len(problems)
            self.listed.extend(problems[: MAX_LISTED_PROBLEMS - len(self.listed)])


def as_record_list(payload: Any) -> list[Any] | None:
    """A submission's records: an array as is, one object as a batch of one, else None."""
    if isinstance(payload, list):
        return payload
    if isinstance(payload, dict):
        return [payload]
    return None


def _body_problem(message: str, rule: str) -> SubmissionProblems:
    found = SubmissionProblems()
    found.add([StructuralProblem(None, None, "(body)", message, rule)])
    return found


def check_submission(payload: Any) -> SubmissionProblems:
    """The structural problems of a parsed submission: the first ``MAX_LISTED_PROBLEMS``
    listed, all counted (up to ``MAX_COUNTED_PROBLEMS``). False when it is sound."""
    records = as_record_list(payload)
    if records is None:
        kind = type(payload).__name__ if payload is not None else "null"
        return _body_problem(
            f"expected a JSON array of service records or one record object, got {kind}", "not_an_object"
        )
    if not records:
        return _body_problem("the array is empty: send at least one record", "required")
    found = SubmissionProblems()
    for index, record in enumerate(records):
        if found.problem_count >= MAX_COUNTED_PROBLEMS:
            found.counted_all = False
            break
        found.add(check_record(index, record))
    return found


def check_record(index: int, record: Any) -> list[StructuralProblem]:
    """Structural problems of one record (types, required fields, bounds)."""
    raw_id = record.get("service_record_id") if isinstance(record, dict) else None
    record_id = None if raw_id is None else str(raw_id)
    return [StructuralProblem(index, record_id, v.field, v.message, v.rule) for v in structural_violations(record)]
