"""SubmitRecord: accept a dealer's submission, check its structure, store it unchanged."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass

import orjson

from application.ports import Clock, ObjectStore
from application.raw_formats import JSON
from application.storage_keys import (
    META_INGESTED_AT,
    META_SUBMISSION_ID,
    META_SUBMITTED_BY,
    submission_key,
    submission_record_key,
)
from domain.dealer_access import Caller, records_of_other_dealers
from domain.limits import MAX_RECORDS_PER_SUBMISSION
from domain.problems import StructuralProblem
from domain.submission import SubmissionProblems, as_record_list, check_submission

log = logging.getLogger(__name__)

# API Gateway hands Lambda at most 6 MB; the same limit holds everywhere for consistency.
MAX_SUBMISSION_BYTES = 6 * 1024 * 1024


@dataclass(frozen=True)
class Receipt:
    status: str
    submission_id: str
    file_key: str
    record_count: int

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


class SubmissionError(ValueError):
    """A submission that was not accepted; nothing was stored."""


class SubmissionTooLarge(SubmissionError):
    pass


class MalformedSubmission(SubmissionError):
    pass


class SubmissionForbidden(SubmissionError):
    """Records of another dealership, sent with a dealer's key: refused whole."""

    def __init__(self, caller: Caller, indices: list[int]) -> None:
        shown = ", ".join(str(i) for i in indices[:20]) + (" ..." if len(indices) > 20 else "")
        super().__init__(
            f"{len(indices):,} record(s) (index {shown}) have a dealer.dealer_id other than this key's "
            f"{caller.dealer_id!r}; a dealer's key submits only that dealer's records"
        )
        self.indices = indices


class SubmissionRejected(SubmissionError):
    """Structurally invalid: the first problems listed, all of them counted."""

    def __init__(self, found: SubmissionProblems) -> None:
        more = "" if found.counted_all else " or more"
        super().__init__(
            f"{found.problem_count:,}{more} problem(s) in {found.records_with_problems:,} record(s) of the submission"
        )
        self.found = found

    @property
    def problems(self) -> list[StructuralProblem]:
        """The problems listed (the first ``MAX_LISTED_PROBLEMS``)."""
        return self.found.listed


class SubmitRecord:
    """Validate a submission's structure and store it, byte for byte, as one raw object."""

    def __init__(self, raw: ObjectStore, clock: Clock, new_id: Callable[[], str] = lambda: str(uuid.uuid4())):
        self._raw, self._clock, self._new_id = raw, clock, new_id

    def __call__(self, body: bytes, caller: Caller) -> Receipt:
        """Store ``body`` for ``caller``; raises a ``SubmissionError`` and stores nothing if
        it is too large, not JSON, another dealer's, or structurally invalid."""
        if len(body) > MAX_SUBMISSION_BYTES:
            raise SubmissionTooLarge(
                f"the body is {len(body):,} bytes; the limit is {MAX_SUBMISSION_BYTES:,}. "
                "Split it into smaller batches, or upload it as a bulk file"
            )
        try:
            payload = orjson.loads(body)
        except orjson.JSONDecodeError as err:
            raise MalformedSubmission(f"the body is not valid JSON: {err}") from err
        records = as_record_list(payload) or []
        if len(records) > MAX_RECORDS_PER_SUBMISSION:
            raise SubmissionTooLarge(
                f"{len(records):,} records in one submission; the limit is {MAX_RECORDS_PER_SUBMISSION:,}. "
                "Send smaller batches, or upload a bulk file"
            )
        foreign = records_of_other_dealers(records, caller)
        if foreign:
            raise SubmissionForbidden(caller, foreign)
        problems = check_submission(payload)
        if problems:
            raise SubmissionRejected(problems)
        received_at = self._clock.now()
        submission_id = self._new_id()
        key = submission_key(received_at, submission_id)
        # Noted first: a note without its raw object reads as "never stored" (404), while a
        # raw object without its note would be processed but could never be asked about.
        note = {
            "submission_id": submission_id,
            "raw_key": key,
            "submitted_by": caller.name,
            "received_at": received_at.isoformat(),
            "record_count": len(records),
        }
        self._raw.put_bytes(submission_record_key(submission_id), orjson.dumps(note), content_type=JSON)
        self._raw.put_bytes(
            key,
            body,
            metadata={
                META_INGESTED_AT: received_at.isoformat(),
                META_SUBMISSION_ID: submission_id,
                META_SUBMITTED_BY: caller.name,
            },
            content_type=JSON,
        )
        log.info(
            "submission accepted",
            extra={"submission_id": submission_id, "raw_key": key, "record_count": len(records), "caller": caller.name},
        )
        return Receipt("accepted", submission_id, key, len(records))
