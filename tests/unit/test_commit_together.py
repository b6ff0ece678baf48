"""A raw file's outputs commit together: concurrently when all are complete, none on failure."""

from __future__ import annotations

import contextlib
import threading
import time
from contextlib import ExitStack

import pytest

from adapters.local.in_memory import InMemoryObjectStore
from application.processing.commit_together import CommitTogether
from tests.factories import NOW


class SlowCommits:
    """An in-memory store whose commits each take ``seconds``; counts commits at once."""

    def __init__(self, seconds: float, fail_on: str = "") -> None:
        self.inner, self.seconds, self.fail_on = InMemoryObjectStore(NOW), seconds, fail_on
        self.at_once = self.most_at_once = 0
        self.lock = threading.Lock()

    @contextlib.contextmanager
    def open_write(self, key: str):
        with self.inner.open_write(key) as sink:
            yield sink
            with self.lock:
                self.at_once += 1
                self.most_at_once = max(self.most_at_once, self.at_once)
            time.sleep(self.seconds)
            with self.lock:
                self.at_once -= 1
            if key == self.fail_on:
                raise OSError(f"upload of {key} failed")


def write_all(store: SlowCommits, keys: list[str], fail_before_commit: bool = False) -> None:
    with ExitStack() as stack:
        commits = CommitTogether()
        stack.push(commits)
        for key in keys:
            commits.enter(store.open_write(key)).write(key.encode())
        if fail_before_commit:
            raise RuntimeError("a batch failed")


def test_outputs_commit_concurrently_once_all_are_complete() -> None:
    store = SlowCommits(0.2)
    started = time.monotonic()
    write_all(store, [f"out-{i}" for i in range(9)])
    assert time.monotonic() - started < 0.2 * 3  # not 9 x 0.2 s
    assert store.most_at_once == 9 and sorted(store.inner.objects) == [f"out-{i}" for i in range(9)]


def test_a_failure_before_the_commit_discards_every_output() -> None:
    store = SlowCommits(0)
    with pytest.raises(RuntimeError, match="a batch failed"):
        write_all(store, ["a", "b", "c"], fail_before_commit=True)
    assert store.inner.objects == {}


def test_a_failed_commit_is_raised() -> None:
    store = SlowCommits(0, fail_on="b")
    with pytest.raises(OSError, match="upload of b failed"):
        write_all(store, ["a", "b", "c"])
