"""ProcessRawFile: clean one raw file into the star schema, cleaned JSONL and rejections.

The file is read in bounded batches. A ``service_record_id`` repeated across batches is
found at the end of the file; then the file is processed once more with those rows marked,
before anything becomes visible, so that the outputs are the same as for one big batch.
"""

from __future__ import annotations

import io
import logging
from collections import Counter
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from application.erasure.row_notes import RowNotes
from application.errors import ObjectNotFound, RawFileMissing, UnreadableFile
from application.ports import Clock, ObjectInfo, ObjectStore, ScratchSpace
from application.processing.batching import DEFAULT_CHUNK_BYTES
from application.processing.output_writers import OutputWriters
from application.processing.raw_reader import RECORD_INDEX, RecordBatch, displayable, read_batches
from application.processing.repeated_ids import RepeatedIds
from application.raw_formats import JSON
from application.storage_keys import ERROR_PREFIXES, META_INGESTED_AT, META_SUBMISSION_ID, OutputKeys, output_keys
from domain.cleaned_records import cleaned_record_table
from domain.cleaning import clean
from domain.problems import RejectedRow
from domain.star_schema import FileContext, build_star_schema

log = logging.getLogger(__name__)

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
            "dealer_id": row.dealer_id,
            "service_record_id": row.service_record_id,
            "errors": [v.to_dict() for v in row.violations],
            "record": row.record,
        },
        option=_JSON_OPTIONS,
    )


def rejection_lines(rows: list[RejectedRow], context: FileContext) -> bytes:
    """The rejected-rows file's lines for ``rows``, as one block of text."""
    # Written one by one: orjson's result keeps a 4 KiB buffer, so a list of 20,000 lines
    # would hold 80 MiB for 15 MiB of text.
    block = io.BytesIO()
    for row in rows:
        block.write(rejection_line(row, context))
        block.write(b"\n")
    return block.getvalue()


class _RepeatedAcrossBatches(Exception):
    def __init__(self, duplicates: np.ndarray) -> None:
        super().__init__(f"{len(duplicates)} rows repeated across batches")
        self.duplicates = duplicates


class ProcessRawFile:
    """Parse, validate and split one raw file; the raw object is never changed."""

    def __init__(
        self,
        raw: ObjectStore,
        cleaned: ObjectStore,
        errors: ObjectStore,
        clock: Clock,
        chunk_bytes: int = DEFAULT_CHUNK_BYTES,
        scratch: ScratchSpace | None = None,
        between_batches: Callable[[], None] | None = None,
        notes: RowNotes | None = None,
    ) -> None:
        """``scratch`` holds what a big file gathers until its end (dimension rows, ids) on
        disk; without it, in memory. ``between_batches`` runs once a batch is written (the
        worker returns freed memory to the system there). ``notes`` notes every row in the
        record index (who is in which file, for an erasure), batch by batch, before the
        file's manifest is written."""
        self._raw, self._cleaned, self._errors, self._clock = raw, cleaned, errors, clock
        self._chunk_bytes, self._scratch = chunk_bytes, scratch
        self._between_batches = between_batches
        self._notes = notes

    def __call__(self, raw_key: str, judged_at: datetime | None = None) -> ProcessResult:
        """Process ``raw_key``; raises ``RawFileMissing`` only if the raw object is gone.
        ``judged_at``: the time the rules judge rows against (a service date "in the future"),
        when not now: an erasure processes a file again as it was judged first."""
        try:
            info = self._raw.head(raw_key)
        except ObjectNotFound as err:
            raise RawFileMissing(raw_key) from err
        keys = output_keys(raw_key, info.last_modified)
        context = file_context(info, keys)
        try:
            try:
                outcome = self._process(keys, context, None, judged_at)
            except _RepeatedAcrossBatches as repeated:
                outcome = self._process(keys, context, repeated.duplicates, judged_at)
        except UnreadableFile as err:
            return self._unreadable(keys, context, err)
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

    def _process(
        self, keys: OutputKeys, context: FileContext, forced: np.ndarray | None, judged_at: datetime | None
    ) -> ProcessResult:
        now = judged_at or self._clock.now()
        outcome = ProcessResult(raw_key=keys.raw_key, status="processed")
        by_rule: Counter[str] = Counter()
        with ExitStack() as stack:
            ids = RepeatedIds(stack, self._scratch)
            stream = stack.enter_context(self._raw.open_read(keys.raw_key))
            outputs = OutputWriters(stack, self._cleaned, self._errors, keys, context, self._scratch)
            # One batch is written while the next is parsed and cleaned (Arrow, polars and
            # Parquet release the GIL); at most one write waits, so memory stays bounded.
            # Entered last, the pool is shut down (its write finished) before any writer closes.
            pool = stack.enter_context(ThreadPoolExecutor(max_workers=1, thread_name_prefix="outputs"))
            # Rows are noted in the record index on a thread of their own (SQLite and boto3
            # wait without the GIL), one batch at a time, all before the manifest.
            noting_pool = stack.enter_context(ThreadPoolExecutor(max_workers=1, thread_name_prefix="notes"))
            writing: Future[None] | None = None
            noting: Future[None] | None = None
            for batch in read_batches(stream, self._chunk_bytes):
                valid, rejected, tables = self._process_batch(batch, now, forced, context, ids)
                if self._notes is not None:
                    if noting is not None:
                        noting.result()
                    noting = noting_pool.submit(
                        self._notes.note, keys.raw_key, batch.table, RECORD_INDEX, batch.rejected
                    )
                by_rule.update(rule for row in rejected for rule in {v.rule for v in row.violations})
                outcome.valid_rows += valid
                outcome.rejected_rows += len(rejected)
                del batch  # free it before the next batch is read
                if writing is not None:
                    writing.result()
                    if self._between_batches is not None:
                        self._between_batches()
                writing = pool.submit(outputs.write, *tables)
                del tables
            if writing is not None:
                writing.result()
            if noting is not None:
                noting.result()
            if forced is None:
                duplicates = ids.repeated()
                if len(duplicates) > ids.flagged:
                    raise _RepeatedAcrossBatches(duplicates)
            outputs.finish()
            outcome.outputs = outputs.written
        outcome.total_rows = outcome.valid_rows + outcome.rejected_rows
        outcome.rejected_by_rule = dict(sorted(by_rule.items()))
        return outcome

    @staticmethod
    def _process_batch(
        batch: RecordBatch,
        now: datetime,
        forced: np.ndarray | None,
        context: FileContext,
        ids: RepeatedIds,
    ) -> tuple[int, list[RejectedRow], tuple[dict[str, pa.Table], pa.Table, bytes]]:
        """Clean one batch: its valid row count, rejected rows, and what to write.

        A method of its own so that the batch's intermediate tables are freed on return.
        """
        indices = batch.table.column(RECORD_INDEX).to_numpy()
        marked = None if forced is None else np.isin(indices, forced)
        result = clean(batch.table, now, marked, check_control_characters=batch.may_hold_control_characters)
        rejected = batch.rejected + [
            RejectedRow(int(indices[position]), displayable(batch.originals[position]), violations)
            for position, violations in result.violations.items()
        ]
        rejected.sort(key=lambda r: r.index)
        star = build_star_schema(result, context)
        flagged = sum(any(v.rule == "duplicate_id" for v in vs) for vs in result.violations.values())
        dealer_ids = pc.struct_field(batch.table.column("dealer"), "dealer_id")
        ids.add(dealer_ids, batch.table.column("service_record_id"), indices, flagged)
        tables = (star, cleaned_record_table(result, star), rejection_lines(rejected, context))
        return result.records.num_rows, rejected, tables

    def _write_manifest(self, keys: OutputKeys, outcome: ProcessResult) -> None:
        """Replace the manifest; first remove what an earlier run of this file wrote and this
        one did not (a replay after a rule fix may reject nothing where it rejected rows), so
        that no row is left in two places. The old manifest stays until then: a crash in
        between is mended by the retry."""
        for stale in sorted(set(self._previous_outputs(keys)) - set(outcome.outputs)):
            store = self._errors if stale.startswith(ERROR_PREFIXES) else self._cleaned
            store.delete(stale)
            log.info("stale output removed", extra={"raw_key": keys.raw_key, "output_key": stale})
        body = {**outcome.to_dict(), "processed_at": self._clock.now()}
        manifest = orjson.dumps(body, option=_JSON_OPTIONS | orjson.OPT_INDENT_2)
        self._cleaned.put_bytes(keys.manifest, manifest, content_type=JSON)

    def _previous_outputs(self, keys: OutputKeys) -> list[str]:
        try:
            earlier = orjson.loads(self._cleaned.read_bytes(keys.manifest))
        except ObjectNotFound:
            return []
        return [key for key in earlier.get("outputs", []) if isinstance(key, str)]

    def _unreadable(self, keys: OutputKeys, context: FileContext, error: UnreadableFile) -> ProcessResult:
        reason = str(error)
        with self._raw.open_read(keys.raw_key) as source, self._errors.open_write(keys.unreadable) as sink:
            while chunk := source.read(1 << 20):
                sink.write(chunk)
        reason_body = {"raw_key": keys.raw_key, "submission_id": context.submission_id, "reason": reason}
        reason_json = orjson.dumps(reason_body, option=orjson.OPT_INDENT_2)
        self._errors.put_bytes(keys.unreadable_reason, reason_json, content_type=JSON)
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
