"""LoadBatch: load cleaned JSONL files into the record repository, newer-wins.

Runs in AWS Glue Python shell too: standard library only, valid Python 3.9.
"""

from __future__ import annotations

import json
import logging
import re
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Dict, Iterator, List, Optional

from application.errors import ConfigurationError
from application.ports import Clock, ObjectInfo, ObjectStore, RecordRepository
from application.storage_keys import (
    LOAD_LEDGER_PREFIX,
    MANIFEST_PREFIX,
    date_partition,
    keys_of_manifest,
    ledger_entry,
    ledger_key,
)
from domain.record_identity import RecordKey, key_of

log = logging.getLogger(__name__)

DEFAULT_BATCH_RECORDS = 2_000


@dataclass
class LoadReport:
    files_loaded: int = 0
    records_loaded: int = 0
    records_skipped_older: int = 0
    files_failed: List[Dict[str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.files_failed

    def to_dict(self) -> Dict[str, object]:
        return asdict(self)


_FRACTION = re.compile(r"\.(\d+)")


def parse_instant(text: str) -> datetime:
    """An ISO-8601 instant. ``fromisoformat`` on Python 3.9 takes neither 'Z' nor a
    fraction of other than 3 or 6 digits, so both are normalised first."""
    text = text[:-1] + "+00:00" if text.endswith("Z") else text
    text = _FRACTION.sub(lambda m: "." + (m.group(1) + "000000")[:6], text, count=1)
    return datetime.fromisoformat(text)


def canonical_instant(text: str) -> str:
    """An instant as fixed-width UTC text ('2026-11-25T12:00:00.000000Z'), whose text order
    is time order: the repositories compare ``ingested_at`` as text, inside the write."""
    instant = parse_instant(text)
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=timezone.utc)
    return instant.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def pending_manifests(cleaned: ObjectStore, date: Optional[str] = None) -> List[ObjectInfo]:
    """Manifests (processed files) whose current version is not in the load ledger, oldest
    partition first. The manifest is written last, so a file's outputs count only once it
    exists; two listings and no reads tell what is pending."""
    loaded = {ledger_entry(key) for key in cleaned.list_keys(date_partition(LOAD_LEDGER_PREFIX, date))}
    return [
        info
        for info in cleaned.list_objects(date_partition(MANIFEST_PREFIX, date))
        if info.key.endswith(".json") and (info.key, info.version) not in loaded
    ]


def pending_files(cleaned: ObjectStore, date: Optional[str] = None) -> List[str]:
    """The cleaned JSONL files of the pending manifests."""
    return [keys_of_manifest(info.key).cleaned_jsonl for info in pending_manifests(cleaned, date)]


class LoadBatch:
    """Upsert cleaned records, keeping whichever version was ingested last."""

    def __init__(
        self,
        cleaned: ObjectStore,
        repository: RecordRepository,
        clock: Clock,
        batch_records: int = DEFAULT_BATCH_RECORDS,
    ) -> None:
        self._cleaned, self._repository, self._clock = cleaned, repository, clock
        self._batch_records = batch_records

    def __call__(self, date: Optional[str] = None) -> LoadReport:
        """Load every file not yet loaded, or only those of one ingestion date."""
        report = LoadReport()
        for manifest in pending_manifests(self._cleaned, date):
            key = keys_of_manifest(manifest.key).cleaned_jsonl
            try:
                processed, loaded, skipped = self._load_file(manifest, key)
            except ConfigurationError:
                raise  # a missing table fails every file alike: stop and say so
            except Exception as err:  # one bad file must not stop the others
                log.exception("loading failed", extra={"cleaned_key": key})
                report.files_failed.append({"key": key, "error": f"{type(err).__name__}: {err}"})
                continue
            report.files_loaded += processed
            report.records_loaded += loaded
            report.records_skipped_older += skipped
        return report

    def _load_file(self, manifest: ObjectInfo, key: str) -> "tuple[int, int, int]":
        """(1 if the file had records to load else 0, records loaded, records skipped)."""
        loaded = skipped = 0
        status = json.loads(self._cleaned.read_bytes(manifest.key)).get("status")
        if status == "processed":  # an unreadable file has nothing to load
            # The next batch is read and parsed while the last one is written.
            with ThreadPoolExecutor(max_workers=1, thread_name_prefix="load") as pool:
                writing: "Optional[Future[int]]" = None
                sent = 0
                for batch in self._batches(key):
                    if writing is not None:
                        loaded += writing.result()
                    writing = pool.submit(self._repository.put_if_newer, batch)
                    sent += len(batch)
                if writing is not None:
                    loaded += writing.result()
            skipped = sent - loaded
        entry = {
            "manifest": manifest.key,
            "manifest_version": manifest.version,
            "key": key,
            "records_loaded": loaded,
            "records_skipped_older": skipped,
            "loaded_at": self._clock.now().isoformat(),
        }
        self._cleaned.put_bytes(ledger_key(manifest.key, manifest.version), json.dumps(entry).encode("utf-8"))
        log.info("cleaned file loaded", extra={"cleaned_key": key, "records_loaded": loaded})
        return int(status == "processed"), loaded, skipped

    def _batches(self, key: str) -> Iterator[List[Dict[str, object]]]:
        batch: Dict[RecordKey, Dict[str, object]] = {}
        with self._cleaned.open_read(key) as stream:
            for raw_line in stream:
                if not raw_line.strip():
                    continue
                record = json.loads(raw_line)
                record["ingested_at"] = canonical_instant(str(record["ingested_at"]))
                # A later line for the same record replaces an earlier one: no key twice per batch.
                identity = key_of(record)
                batch.pop(identity, None)
                batch[identity] = record
                if len(batch) >= self._batch_records:
                    yield list(batch.values())
                    batch = {}
        if batch:
            yield list(batch.values())
