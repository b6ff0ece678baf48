"""A progress line for long work on a terminal: rewritten in place on stderr, and silent
when stdout is not a terminal (a pipe, a file, ``--json`` read by a program)."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    def __init__(self, stream: TextIO | None = None, enabled: bool | None = None) -> None:
        self._stream = stream or sys.stderr
        self.enabled = sys.stdout.isatty() if enabled is None else enabled
        self._shown = False
        self.started = time.monotonic()

    def show(self, text: str) -> None:
        if self.enabled:
            self._stream.write(f"\r{text}\x1b[K")  # \x1b[K clears the rest of the line
            self._stream.flush()
            self._shown = True

    def done(self) -> None:
        """End the line, so that what follows starts on its own."""
        if self._shown:
            self._stream.write("\n")
            self._stream.flush()
            self._shown = False


class WorkerProgress(Progress):
    """Files processed and rows per second, after each file."""

    def __init__(self, stream: TextIO | None = None, enabled: bool | None = None) -> None:
        super().__init__(stream, enabled)
        self.files = self.rows = 0

    def __call__(self, valid_rows: int, rejected_rows: int) -> None:
        self.files += 1
        self.rows += valid_rows + rejected_rows
        rate = self.rows / max(time.monotonic() - self.started, 1e-6)
        self.show(f"{self.files:,} files processed, {self.rows:,} rows, {rate:,.0f} rows/s")
