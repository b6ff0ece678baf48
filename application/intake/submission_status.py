"""SubmissionStatus: what became of one API submission, for the dealer who sent it.

``received`` until the worker has processed its raw object, then ``processed`` with the
counts of valid and rejected rows and, for each rejected row, its index, id and every rule it
broke; ``failed`` when the raw object could not be read at all. Only the submitting dealer
(or an admin) may ask: for anyone else the submission does not exist, so ids cannot be probed.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import datetime

import orjson

from application.errors import ObjectNotFound
from application.ports import ObjectStore
from application.storage_keys import output_keys, submission_record_key
from domain.dealer_access import Caller

_SUBMISSION_ID = re.compile(r"^[0-9a-fA-F-]{8,64}$")  # SubmitRecord's ids; nothing else reaches a key


@dataclass(frozen=True)
class RejectedRowReport:
    index: int
    service_record_id: str | None
    errors: list[dict[str, object]]


@dataclass
class SubmissionReport:
    submission_id: str
    status: str  # received, processed or failed
    received_at: str
    record_count: int | None  # None for a bulk upload until it is processed
    valid_rows: int | None = None
    rejected_rows: int | None = None
    rejected: list[RejectedRowReport] = field(default_factory=list)
    reason: str | None = None

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


class SubmissionStatus:
    def __init__(self, raw: ObjectStore, cleaned: ObjectStore, errors: ObjectStore) -> None:
        self._raw, self._cleaned, self._errors = raw, cleaned, errors

    def __call__(self, submission_id: str, caller: Caller) -> SubmissionReport | None:
        """The submission's report, or None if it does not exist for ``caller``."""
        if not _SUBMISSION_ID.match(submission_id):
            return None
        note = self._read_json(self._raw, submission_record_key(submission_id))
        if note is None or not (caller.admin or note.get("submitted_by") == caller.name):
            return None
        raw_key = str(note["raw_key"])
        report = SubmissionReport(
            submission_id=submission_id,
            status="received",
            received_at=str(note["received_at"]),
            record_count=None if note.get("record_count") is None else int(str(note["record_count"])),
        )
        keys = output_keys(raw_key, datetime.fromisoformat(report.received_at))
        manifest = self._read_json(self._cleaned, keys.manifest)
        if manifest is None:
            return report if self._raw.exists(raw_key) else None  # noted, never stored
        if manifest.get("status") == "unreadable":
            report.status, report.reason = "failed", str(manifest.get("reason"))
            return report
        report.status = "processed"
        report.valid_rows = int(str(manifest["valid_rows"]))
        report.rejected_rows = int(str(manifest["rejected_rows"]))
        if report.record_count is None:
            report.record_count = report.valid_rows + report.rejected_rows
        if report.rejected_rows:
            report.rejected = self._rejected_rows(keys.rejected)
        return report

    def _rejected_rows(self, key: str) -> list[RejectedRowReport]:
        rows = []
        with self._errors.open_read(key) as lines:
            for line in lines:
                if line.strip():
                    row = orjson.loads(line)  # the record itself is left out: the dealer has it
                    rows.append(RejectedRowReport(row["index"], row.get("service_record_id"), row["errors"]))
        return rows

    @staticmethod
    def _read_json(store: ObjectStore, key: str) -> dict[str, object] | None:
        try:
            value = orjson.loads(store.read_bytes(key))
        except ObjectNotFound:
            return None
        return value if isinstance(value, dict) else None
