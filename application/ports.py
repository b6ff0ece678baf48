"""The ports the use-cases depend on. Adapters in ``adapters/`` implement them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import BinaryIO, ContextManager, Dict, Iterator, List, Mapping, Optional, Sequence, Tuple

from domain.record_identity import RecordKey, StoredVersion

try:  # Protocol is in typing from Python 3.8; the Glue loader imports this module on 3.9.
    from typing import Protocol
except ImportError:  # pragma: no cover
    from typing_extensions import Protocol  # type: ignore[assignment]


@dataclass(frozen=True)
class ObjectInfo:
    """An object's description. ``version`` changes whenever the object is written again
    (S3's ETag); ``metadata`` is empty in listings."""

    key: str
    size: int
    last_modified: datetime
    metadata: Dict[str, str] = field(default_factory=dict)
    version: str = ""
    content_type: str = ""


class ObjectStore(Protocol):
    """A bucket: keys to bytes, with atomic writes and paginated listing."""

    def verify(self) -> None:
        """Raise ``ConfigurationError`` unless the resource exists and may be used."""
        ...

    def put_bytes(
        self, key: str, data: bytes, metadata: Optional[Mapping[str, str]] = None, content_type: Optional[str] = None
    ) -> None: ...

    def read_bytes(self, key: str) -> bytes: ...

    def open_read(self, key: str) -> ContextManager[BinaryIO]: ...

    def open_write(
        self, key: str, metadata: Optional[Mapping[str, str]] = None, content_type: Optional[str] = None
    ) -> ContextManager[BinaryIO]:
        """A writable file; the object appears, whole, only when the block exits cleanly."""
        ...

    def head(self, key: str) -> ObjectInfo: ...

    def exists(self, key: str) -> bool: ...

    def delete(self, key: str) -> None:
        """Remove ``key``; nothing happens if it does not exist (as on S3)."""
        ...

    def list_keys(self, prefix: str = "") -> Iterator[str]:
        """Every key under ``prefix``, in key order, however many there are."""
        ...

    def earlier_versions(self, key: str) -> int:
        """How many earlier versions (and delete markers) of ``key`` the store keeps."""
        ...

    def purge_versions(self, key: str) -> int:
        """Delete every earlier version of ``key`` a versioned bucket keeps (and, if ``key``
        was deleted, its delete markers): after it, only the current object, if any, is
        left. How many versions went; 0 where the store keeps no versions."""
        ...

    def list_objects(self, prefix: str = "") -> Iterator[ObjectInfo]:
        """Like ``list_keys``, with each object's size, time and version."""
        ...


@dataclass(frozen=True)
class Message:
    message_id: str
    receipt_handle: str
    body: str
    receive_count: int


@dataclass(frozen=True)
class QueueStats:
    visible: int
    in_flight: int
    dead_letter: int


class Queue(Protocol):
    """A work queue with visibility timeouts and a dead-letter queue, like SQS."""

    def verify(self) -> None:
        """Raise ``ConfigurationError`` unless the resource exists and may be used."""
        ...

    def send(self, body: str) -> None: ...

    def receive(self, max_messages: int = 10, wait_seconds: float = 0) -> List[Message]: ...

    def delete(self, receipt_handle: str) -> None: ...

    def change_visibility(self, receipt_handle: str, timeout_seconds: int) -> None: ...

    def stats(self) -> QueueStats: ...


class RecordRepository(Protocol):
    """The service-record database, keyed by (``dealer_id``, ``service_record_id``)
    (``domain.record_identity``): the same id from two dealerships is two records."""

    def verify(self) -> None:
        """Raise ``ConfigurationError`` unless the resource exists and may be used."""
        ...

    def put_if_newer(self, records: Sequence[Mapping[str, object]]) -> int:
        """Insert or replace each record (keyed by its ``dealer_id`` and
        ``service_record_id``) unless the stored one has a later ``ingested_at`` (canonical
        UTC text, compared as text; a stored record without one is older). The comparison is
        part of each write, so concurrent loads cannot let an older version win. Keys are
        unique within one call. Returns how many records were written."""
        ...

    def get(self, key: RecordKey) -> Optional[Dict[str, object]]: ...

    def with_id(self, service_record_id: str) -> List[Dict[str, object]]:
        """Every dealership's record that carries ``service_record_id`` (at most one each),
        ordered by dealer id."""
        ...

    def stored_versions(self, keys: Sequence[RecordKey]) -> Dict[RecordKey, StoredVersion]:
        """For each of ``keys`` that is stored, its stored ``ingested_at`` and content hash
        (``domain.record_identity.content_hash`` of the record as written), read in few
        calls: ``reconcile`` checks the table holds what was loaded."""
        ...

    def history(
        self, vin: str, limit: int, page: Optional[str] = None
    ) -> Tuple[List[Dict[str, object]], Optional[str]]:
        """A vehicle's records, newest ``service_date`` first (ties: higher dealer id, then
        higher record id), at most ``limit`` at a time, and the token of the next page. A
        page may hold fewer than ``limit`` (a store reads a bounded amount per call), but the
        token is None only when no record follows. ``page`` is a token a previous call
        returned; a token this repository did not make raises ``BadPageToken``."""
        ...

    count_is_exact: bool  # False where counting exactly would read the whole table

    def count(self) -> int: ...


class ScratchSpace(Protocol):
    """Temporary files on the worker's own disk, for data too big to hold in memory."""

    def temporary_file(self) -> ContextManager[BinaryIO]:
        """A new empty file, removed when the block exits."""
        ...


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, time-zone aware (UTC)."""
        ...
