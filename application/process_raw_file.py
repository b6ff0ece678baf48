"""ProcessRawFile: clean one raw file into the star schema, cleaned JSONL and rejections."""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from application.errors import UnreadableFile
from application.ports import Clock, ObjectInfo, ObjectStore
from application.raw_reader import DEFAULT_CHUNK_BYTES, RECORD_INDEX, read_batches
from application.storage_keys import OutputKeys, output_keys
from domain.cleaned_records import cleaned_record_table
from domain.cleaning import clean
from domain.problems import RejectedRow
from domain.star_schema import FileContext, build_star_schema

log = logging.getLogger(__name__)

# Object metadata written with every raw object we store ourselves.
META_INGESTED_AT = "ingested-at"
META_SUBMISSION_ID = "submission-id"

_JSON_OPTIONS = orjson.OPT_UTC_Z | orjson.OPT_SERIALIZE_NUMPY


@dataclass
class ProcessResult:
    """What processing one raw file produced; ``status`` is 'processed' or 'unreadable'."""

    raw_key: str
    status: str
    total_rows: int = 0
    valid_rows: int = 0
    rejected_rows: int = 0
    rejected_by_rule: dict[str, int] = field(default_factory=dict)
    reason: str | None = None
    outputs: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def file_context(info: ObjectInfo, keys: OutputKeys) -> FileContext:
    """Provenance of a raw object: its submission id and when it was ingested."""
    ingested = info.metadata.get(META_INGESTED_AT)
    ingested_at = datetime.fromisoformat(ingested) if ingested else info.last_modified
    if ingested_at.tzinfo is None:
        ingested_at = ingested_at.replace(tzinfo=timezone.utc)
    submission_id = info.metadata.get(META_SUBMISSION_ID) or keys.name
    return FileContext(source_file=info.key, submission_id=submission_id, ingested_at=ingested_at)


def rejection_line(row: RejectedRow, context: FileContext) -> bytes:
    """One line of the error store's rejected-rows file."""
    return orjson.dumps(
        {
            "submission_id": context.submission_id,
            "source_file": context.source_file,
            "index": row.index,
            "service_record_id": row.service_record_id,
            "errors": [v.to_dict() for v in row.violations],
            "record": row.record,
        },
        option=_JSON_OPTIONS,
    )


class ProcessRawFile:
    """Parse, validate and split one raw file; the raw object is never changed."""

    def __init__(
        self,
        raw: ObjectStore,
        cleaned: ObjectStore,
        errors: ObjectStore,
        clock: Clock,
        chunk_bytes: int = DEFAULT_CHUNK_BYTES,
    ) -> None:
        self._raw, self._cleaned, self._errors, self._clock = raw, cleaned, errors, clock
        self._chunk_bytes = chunk_bytes

    def __call__(self, raw_key: str) -> ProcessResult:
        info = self._raw.head(raw_key)
        keys = output_keys(raw_key, info.last_modified)
        context = file_context(info, keys)
        try:
            with self._raw.open_read(raw_key) as stream:
                batches = list(read_batches(stream, self._chunk_bytes))
        except UnreadableFile as err:
            return self._unreadable(keys, context, err)

        table = pa.concat_tables([b.table for b in batches])
        lines = [b.originals[i] for b in batches for i in range(len(b.originals))]
        rejected = [row for b in batches for row in b.rejected]
        result = clean(table, self._clock.now())
        indices = table.column(RECORD_INDEX).to_numpy()
        for position, violations in result.violations.items():
            rejected.append(RejectedRow(int(indices[position]), orjson.loads(lines[position]), violations))
        rejected.sort(key=lambda r: r.index)

        star = build_star_schema(result, context)
        outputs = []
        for name, star_table in star.items():
            outputs.append(self._write_parquet(keys.parquet(name), star_table))
        cleaned = cleaned_record_table(result, star)
        outputs.append(self._write_jsonl(self._cleaned, keys.cleaned_jsonl, _json_lines(cleaned)))
        if rejected:
            lines_out = (rejection_line(row, context) for row in rejected)
            outputs.append(self._write_jsonl(self._errors, keys.rejected, lines_out))

        by_rule = Counter(rule for row in rejected for rule in {v.rule for v in row.violations})
        outcome = ProcessResult(
            raw_key=raw_key,
            status="processed",
            total_rows=len(result.records) + len(rejected),
            valid_rows=len(result.records),
            rejected_rows=len(rejected),
            rejected_by_rule=dict(sorted(by_rule.items())),
            outputs=outputs,
        )
        self._write_manifest(keys, outcome)
        log.info(
            "raw file processed",
            extra={
                "raw_key": raw_key,
                "submission_id": context.submission_id,
                "valid_rows": outcome.valid_rows,
                "rejected_rows": outcome.rejected_rows,
            },
        )
        return outcome

    def _write_parquet(self, key: str, table: pa.Table) -> str:
        with self._cleaned.open_write(key) as sink:
            pq.write_table(table, sink, compression="zstd")
        return key

    @staticmethod
    def _write_jsonl(store: ObjectStore, key: str, lines) -> str:  # type: ignore[no-untyped-def]
        with store.open_write(key) as sink:
            for line in lines:
                sink.write(line)
                sink.write(b"\n")
        return key

    def _write_manifest(self, keys: OutputKeys, outcome: ProcessResult) -> None:
        body = {**outcome.to_dict(), "processed_at": self._clock.now()}
        self._cleaned.put_bytes(keys.manifest, orjson.dumps(body, option=_JSON_OPTIONS | orjson.OPT_INDENT_2))

    def _unreadable(self, keys: OutputKeys, context: FileContext, error: UnreadableFile) -> ProcessResult:
        reason = str(error)
        with self._raw.open_read(keys.raw_key) as source, self._errors.open_write(keys.unreadable) as sink:
            while chunk := source.read(1 << 20):
                sink.write(chunk)
        reason_body = {"raw_key": keys.raw_key, "submission_id": context.submission_id, "reason": reason}
        self._errors.put_bytes(keys.unreadable_reason, orjson.dumps(reason_body, option=orjson.OPT_INDENT_2))
        outcome = ProcessResult(
            raw_key=keys.raw_key,
            status="unreadable",
            reason=reason,
            outputs=[keys.unreadable, keys.unreadable_reason],
        )
        self._write_manifest(keys, outcome)
        # The reason may quote the file's first bytes: it goes to the error store, not the log.
        log.warning("raw file unreadable", extra={"raw_key": keys.raw_key, "kind": error.kind})
        return outcome


def _json_lines(table: pa.Table):  # type: ignore[no-untyped-def]
    for batch in table.to_batches(max_chunksize=10_000):
        for row in batch.to_pylist():
            yield orjson.dumps(row, option=_JSON_OPTIONS)
