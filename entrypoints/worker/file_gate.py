"""How many raw files one worker process holds at once: several small, or one big alone.

Small files spend most of their time waiting on the object store (about four round trips
each), so a worker keeps several in hand (``files_in_flight``). A big file is memory: two at
once would not fit a 512 MiB task. So a file over ``SMALL_FILE_BYTES`` (its size is in the
S3 event; unknown counts as big) waits until it is alone, and no lane receives another
message while a big file is waiting or in hand; small files share ``SMALL_FILES_BUDGET``
bytes (a 10-record file is about 8 KB, so eight of those run at once, but only two of 500 KB).
Measured (`bench.measure small-files`, 100 files of 600 records, about 470 KB each): 251 MiB
peak with one in hand, 342 with four, 380 with eight before the budget.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

SMALL_FILE_BYTES = 512 * 1024  # about 650 records
SMALL_FILES_BUDGET = 2 * SMALL_FILE_BYTES  # of small files in hand at once (one always fits)


class FileGate:
    def __init__(self, small_file_bytes: int = SMALL_FILE_BYTES, budget: int = SMALL_FILES_BUDGET) -> None:
        self._small_file_bytes, self._budget = small_file_bytes, budget
        self._changed = threading.Condition()
        self._small = 0  # small files in hand
        self._small_bytes = 0
        self._big = False  # a big file in hand
        self._big_waiting = 0

    def _big_ahead(self) -> bool:
        return self._big or self._big_waiting > 0

    def wait_to_receive(self, timeout: float | None = None) -> bool:
        """Wait while a big file is in hand or waiting; False if ``timeout`` passed first."""
        with self._changed:
            return self._changed.wait_for(lambda: not self._big_ahead(), timeout)

    @contextlib.contextmanager
    def admit(self, size: int | None) -> Iterator[None]:
        """Hold the gate for one file of ``size`` bytes while it is processed."""
        big = size is None or size > self._small_file_bytes
        weight = 0 if size is None else size
        with self._changed:
            if big:
                self._big_waiting += 1
                self._changed.wait_for(lambda: not self._big and self._small == 0)
                self._big_waiting -= 1
                self._big = True
            else:
                self._changed.wait_for(
                    lambda: not self._big_ahead() and (self._small == 0 or self._small_bytes + weight <= self._budget)
                )
                self._small += 1
                self._small_bytes += weight
        try:
            yield
        finally:
            with self._changed:
                if big:
                    self._big = False
                else:
                    self._small -= 1
                    self._small_bytes -= weight
                self._changed.notify_all()
