"""The port the publish step commits the analytics tables through, and readers read them by:
an open table format's catalog (Apache Iceberg: a SQLite catalog locally, Glue on AWS)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

import pyarrow as pa

from application.analytics.sql_engine import ArrowSource


class TableChanged(Exception):
    """Another writer committed to the table while this commit was being made: nothing of this
    one was committed (the other's stands, once)."""


@dataclass(frozen=True)
class Committed:
    """What one commit left in a table's date (or in the whole table)."""

    table: str
    files: int
    rows: int
    bytes: int


@dataclass(frozen=True)
class Tidied:
    """What one tidy of a table removed."""

    table: str
    snapshots: int  # snapshots forgotten
    files: int  # files deleted
    bytes: int
    removed: tuple[str, ...] = ()  # the keys of the files deleted, in the table's bucket (forget_history)


class TableCatalog(Protocol):
    def replace_date(
        self, table: str, schema: pa.Schema, ingest_date: date, batches: Iterable[pa.RecordBatch], version: str
    ) -> Committed:
        """In one commit, the rows of ``table`` with ``ingest_date`` become ``batches`` (of
        ``schema``, written into as few files as their size allows), and the date's published
        ``version`` is noted with them; readers see the date as it was or as it is now, never
        between. The table is created, partitioned by ``ingest_date``, if it does not exist.
        Raises ``TableChanged`` if another writer changed the date meanwhile."""
        ...

    def published_version(self, table: str, ingest_date: date) -> str | None:
        """The ``version`` the date was last published with into ``table``; None if never
        (or if the table does not exist)."""
        ...

    def replace_all(self, table: str, schema: pa.Schema, data: pa.Table, built_from: str) -> Committed:
        """In one commit, ``table`` holds ``data`` and nothing else (created if new), noted as
        ``built_from`` (what it was computed from, see ``snapshot``)."""
        ...

    def built_from(self, table: str) -> str | None:
        """What ``replace_all`` last noted for ``table``; None if nothing (or no table)."""
        ...

    def snapshot(self, table: str) -> str | None:
        """An id of the table's current contents, new with every commit; None if no table."""
        ...

    def read(self, table: str, columns: Sequence[str] | None = None) -> pa.Table | None:
        """The table's current snapshot (``columns`` only, when given); None if it does not exist."""
        ...

    def tidy(self, table: str, before: datetime) -> Tidied:
        """Forget the table's snapshots committed before ``before`` (never its current one),
        then delete the files under it that no snapshot left refers to and that were written
        before ``before``: what no reader can reach any more, and what a publish that failed
        left behind (a publish under way writes after ``before``, so its files stay). Nothing
        if the table does not exist."""
        ...

    def erase_rows(self, table: str, where: Mapping[str, Sequence[str]], blank: Sequence[str] | None) -> int:
        """In one commit, the rows of ``table`` whose every column named in ``where`` holds one
        of its values: kept with the ``blank`` columns set to null, or removed if ``blank`` is
        None. Only the files holding such rows are rewritten. How many rows; 0 (and no commit)
        if none, or no table. Raises ``TableChanged`` if another writer changed it meanwhile.
        Safe to call for different tables at once, from several threads."""
        ...

    def forget_history(self, table: str) -> Tidied:
        """Forget every snapshot but the current one, and delete the files only they referred
        to (an erasure's: nothing a time-travel query could read back). Files no snapshot ever
        referred to are left, so a publish under way keeps what it has written. Nothing if the
        table does not exist."""
        ...

    def scan(self, table: str, ingested_since: date | None = None) -> ArrowSource | None:
        """The table's current snapshot, for a SQL engine to stream (the files it is made of,
        not read yet): for a table by date, only the dates ingested on or after
        ``ingested_since``. None if the table does not exist."""
        ...
