"""Where every object lives. Output keys are derived from the raw key alone, so that
processing the same raw file twice overwrites its outputs instead of duplicating them.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime

RAW_PREFIX = "service-records/"
PARQUET_PREFIX = "parquet/"
CLEANED_JSONL_PREFIX = "dynamodb/"
MANIFEST_PREFIX = "manifests/"
LOAD_LEDGER_PREFIX = "load-ledger/"
REJECTED_PREFIX = "rejected/"
UNREADABLE_PREFIX = "unreadable/"
ERROR_PREFIXES = (REJECTED_PREFIX, UNREADABLE_PREFIX)  # the outputs that live in the error store
SUBMISSIONS_PREFIX = "submissions/"  # in the raw store, beside the raw objects: who sent what

# Object metadata written with every raw object we store ourselves.
META_INGESTED_AT = "ingested-at"
META_SUBMISSION_ID = "submission-id"
META_SUBMITTED_BY = "submitted-by"  # "dealer:<dealer_id>" or "admin"

_RAW_KEY = re.compile(r"^service-records/date=(\d{4}-\d{2}-\d{2})/([^/]+)$")
_UNSAFE = re.compile(r"[^A-Za-z0-9._=-]+")


def safe_name(name: str, max_length: int = 120) -> str:
    """A name safe in any storage key: only A-Z, a-z, 0-9, '.', '_', '=', '-'.

    A name that had to change gets a short hash of the original, so that two different
    names never end up as the same key.
    """
    cleaned = _UNSAFE.sub("_", name).strip("._") or "file"
    if cleaned == name and len(name) <= max_length:
        return name
    digest = hashlib.sha1(name.encode("utf-8"), usedforsecurity=False).hexdigest()[:10]  # a name, not a secret
    return f"{cleaned[:max_length]}-{digest}"


def submission_key(received_at: datetime, submission_id: str) -> str:
    """The raw key of an API submission: date partition, time of day and id."""
    return f"{RAW_PREFIX}date={received_at:%Y-%m-%d}/{received_at:%H-%M-%S}_{submission_id}.json"


def submission_record_key(submission_id: str) -> str:
    """Where SubmitRecord notes a submission (its raw key, who sent it), for feedback."""
    return f"{SUBMISSIONS_PREFIX}{submission_id}.json"


def upload_key(uploaded_at: datetime, upload_id: str, file_name: str) -> str:
    """The raw key of a bulk upload: time of day and id, so that no upload ever replaces
    another, then the client's file name (sanitised) so that people can find it."""
    return f"{RAW_PREFIX}date={uploaded_at:%Y-%m-%d}/{uploaded_at:%H-%M-%S}_{upload_id}_{safe_name(file_name)}"


@dataclass(frozen=True)
class OutputKeys:
    """Every key ProcessRawFile writes for one raw file."""

    raw_key: str
    date: str
    name: str

    def parquet(self, table: str) -> str:
        return f"{PARQUET_PREFIX}{table}/date={self.date}/{self.name}.parquet"

    @property
    def cleaned_jsonl(self) -> str:
        return f"{CLEANED_JSONL_PREFIX}date={self.date}/{self.name}.jsonl"

    @property
    def manifest(self) -> str:
        return f"{MANIFEST_PREFIX}date={self.date}/{self.name}.json"

    @property
    def rejected(self) -> str:
        return f"{REJECTED_PREFIX}date={self.date}/{self.name}.jsonl"

    @property
    def unreadable(self) -> str:
        return f"{UNREADABLE_PREFIX}date={self.date}/{self.name}"

    @property
    def unreadable_reason(self) -> str:
        return f"{UNREADABLE_PREFIX}date={self.date}/{self.name}.reason.json"


def output_keys(raw_key: str, created: datetime) -> OutputKeys:
    """Output keys for a raw key; ``created`` dates raw keys without a date partition."""
    match = _RAW_KEY.match(raw_key)
    if match:
        date, file_name = match.groups()
        # The whole file name, extension included: "a.json" and "a.jsonl" stay apart.
        return OutputKeys(raw_key, date, safe_name(file_name))
    return OutputKeys(raw_key, f"{created:%Y-%m-%d}", safe_name(raw_key.replace("/", "__")))


def ledger_key(manifest: str, version: str) -> str:
    """The load-ledger entry that says one version of a processed file has been loaded.

    The manifest's version is part of the key: a file processed again (new content under
    the same name) has a new manifest version, so it is pending again.
    """
    keys = keys_of_manifest(manifest)
    return f"{LOAD_LEDGER_PREFIX}date={keys.date}/{keys.name}/{safe_name(version)}.json"


def ledger_entry(key: str) -> tuple[str, str]:
    """The (manifest key, manifest version) a load-ledger key stands for."""
    date_part, name, version_file = key[len(LOAD_LEDGER_PREFIX) :].split("/")
    return f"{MANIFEST_PREFIX}{date_part}/{name}.json", version_file[: -len(".json")]


def keys_of_manifest(manifest: str) -> OutputKeys:
    """The output keys of the raw file a manifest describes (its raw key unknown here)."""
    date_part, file_name = manifest[len(MANIFEST_PREFIX) :].split("/")
    return OutputKeys("", date_part[len("date=") :], file_name[: -len(".json")])


def date_partition(prefix: str, date: str | None) -> str:
    """The listing prefix for one ``date=`` partition under ``prefix``, or all of it."""
    return f"{prefix}date={date}/" if date else prefix
