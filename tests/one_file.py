"""One raw file processed once on in-memory stores, as a worker's first receive does, and
what it wrote: the cleaned lines for the database and the rejected rows, parsed."""

from __future__ import annotations

from dataclasses import dataclass

import orjson

from adapters.local.in_memory import FixedClock, InMemoryObjectStore
from application.processing.process_raw_file import ProcessRawFile, ProcessResult
from tests.factories import NOW

KEY = "service-records/date=2026-11-25/12-00-00_sub-1.json"
NAME = "12-00-00_sub-1.json"
META = {"submission-id": "sub-1", "ingested-at": "2026-11-25T12:00:00+00:00"}


@dataclass
class OneFile:
    result: ProcessResult
    cleaned: InMemoryObjectStore
    errors: InMemoryObjectStore

    def cleaned_lines(self) -> list[dict]:
        """The database's JSON Lines, in the file's order (none when nothing was cleaned)."""
        body = self.cleaned.objects.get(f"dynamodb/date=2026-11-25/{NAME}.jsonl", b"")
        return [orjson.loads(line) for line in body.splitlines()]

    def cleaned_indices(self) -> list[int]:
        return [line["record_index"] for line in self.cleaned_lines()]

    def rejected_rows(self) -> list[dict]:
        body = self.errors.objects.get(f"rejected/date=2026-11-25/{NAME}.jsonl", b"")
        return [orjson.loads(line) for line in body.splitlines()]

    def unreadable(self) -> bytes | None:
        """The raw file as copied to the error store when it could not be read at all."""
        return self.errors.objects.get(f"unreadable/date=2026-11-25/{NAME}")


def process_one_file(body: bytes) -> OneFile:
    raw, cleaned, errors = InMemoryObjectStore(), InMemoryObjectStore(), InMemoryObjectStore()
    raw.put_bytes(KEY, body, META)
    result = ProcessRawFile(raw, cleaned, errors, FixedClock(NOW))(KEY)
    return OneFile(result, cleaned, errors)
