"""One writer at a time on a local file, across the threads and processes of one machine."""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_HELD: dict[str, tuple[threading.Lock, int]] = {}
_GUARD = threading.Lock()


@contextmanager
def exclusive(path: Path) -> Iterator[None]:
    """Hold ``<path>.lock`` exclusively: the threads of a process take turns on a lock of
    their own, the processes on the kernel's ``flock``, which wakes the next waiter at once.
    SQLite's own lock makes its waiters sleep and retry, so under a crowd of writers one of
    them could wait for seconds (a heartbeat past a short visibility timeout)."""
    key = str(Path(path).resolve())
    with _GUARD:
        if key not in _HELD:
            _HELD[key] = (threading.Lock(), os.open(key + ".lock", os.O_RDWR | os.O_CREAT, 0o600))
        lock, fd = _HELD[key]
    with lock:
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
