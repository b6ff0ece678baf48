"""PipelineStatus: counts across the stores, the queue and the database."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

from application.ports import ObjectStore, Queue, RecordRepository
from application.storage_keys import MANIFEST_PREFIX, RAW_PREFIX


@dataclass
class StatusReport:
    raw_files: int = 0
    queued: int = 0
    in_dlq: int = 0
    processed_files: int = 0
    valid_rows: int = 0
    rejected_rows: int = 0
    unreadable_files: int = 0
    loaded_records: int = 0
    loaded_records_exact: bool = True  # False on DynamoDB: its item count lags by hours

    def to_dict(self) -> dict[str, int | bool]:
        return asdict(self)


class PipelineStatus:
    def __init__(self, raw: ObjectStore, cleaned: ObjectStore, queue: Queue, repository: RecordRepository) -> None:
        self._raw, self._cleaned, self._queue, self._repository = raw, cleaned, queue, repository

    def __call__(self) -> StatusReport:
        report = StatusReport()
        report.raw_files = sum(1 for _ in self._raw.list_keys(RAW_PREFIX))
        stats = self._queue.stats()
        report.queued = stats.visible + stats.in_flight
        report.in_dlq = stats.dead_letter
        for key in self._cleaned.list_keys(MANIFEST_PREFIX):
            manifest = json.loads(self._cleaned.read_bytes(key))
            if manifest["status"] == "unreadable":
                report.unreadable_files += 1
                continue
            report.processed_files += 1
            report.valid_rows += int(manifest["valid_rows"])
            report.rejected_rows += int(manifest["rejected_rows"])
        report.loaded_records = self._repository.count()
        report.loaded_records_exact = self._repository.count_is_exact
        return report
