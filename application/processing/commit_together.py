"""Atomic writes that commit together: every sink complete first, then all commits at once.

An object store's ``open_write`` makes its object visible when its context exits (a rename,
an upload). A raw file has about nine outputs; committed one after another that is nine
round trips to S3 for each file, which made small files slow. Entered here instead of in the
``ExitStack``, they commit concurrently, or, when anything failed, are all discarded.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor, wait
from contextlib import AbstractContextManager
from types import TracebackType
from typing import BinaryIO

MAX_CONCURRENT_COMMITS = 10
_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _commit_pool() -> ThreadPoolExecutor:
    """One pool for the process: starting threads for every small file cost more than its
    commits on a local disk."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(MAX_CONCURRENT_COMMITS, thread_name_prefix="commit")
        return _pool


class CommitTogether:
    """Push an instance on an ``ExitStack`` before the writers that fill its sinks, so that
    the writers close (last in, first out) before anything commits."""

    def __init__(self) -> None:
        self._writes: list[AbstractContextManager[BinaryIO]] = []

    def enter(self, write: AbstractContextManager[BinaryIO]) -> BinaryIO:
        """Open one atomic write; its object becomes visible only when all commit."""
        sink = write.__enter__()
        self._writes.append(write)
        return sink

    def __call__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> bool:
        writes, self._writes = self._writes, []
        if kind is not None or len(writes) < 2:
            for write in reversed(writes):  # discarded (or the one committed), as the stack would
                write.__exit__(kind, error, trace)
            return False
        pool = _commit_pool()
        commits = [pool.submit(write.__exit__, None, None, None) for write in writes]
        wait(commits)
        for commit in commits:
            commit.result()  # the first failure is raised: no manifest follows, so a retry redoes all
        return False
