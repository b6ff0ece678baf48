"""An object store that adds a fixed latency to every call, as S3 would, around a real one."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from typing import Any


class SlowStore:
    """Wraps a store; every call (and every write's commit) waits ``seconds`` first."""

    def __init__(self, inner: Any, seconds: float = 0.02) -> None:
        self._inner, self._seconds = inner, seconds
        self.calls = 0

    def _wait(self) -> None:
        self.calls += 1
        time.sleep(self._seconds)

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._inner, name)
        if not callable(attribute):
            return attribute

        def slow(*args: Any, **kwargs: Any) -> Any:
            self._wait()
            return attribute(*args, **kwargs)

        return slow

    @contextlib.contextmanager
    def open_write(self, *args: Any, **kwargs: Any) -> Iterator[Any]:
        with self._inner.open_write(*args, **kwargs) as sink:
            yield sink
            self._wait()  # the upload's completion
