"""Process-wide memory settings for the entrypoints."""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
from collections.abc import Callable
from functools import cache


def use_system_allocator() -> None:
    """Let Arrow allocate with the system allocator.

    Arrow's default (mimalloc) keeps freed memory for reuse; batch after batch that held
    about 60 MiB more at peak, which a 512 MiB Fargate task cannot spare. (A fixed glibc
    mmap threshold saved another 40 MiB but cost a quarter of the speed on JSON arrays.)
    """
    import pyarrow as pa  # here, not at the top: the API imports this module and needs no pyarrow

    pa.set_memory_pool(pa.system_memory_pool())


def freeze_startup_objects() -> None:
    """Move everything allocated so far (imports, the app) out of the garbage collector's
    view, so that a full collection during a request walks only that request's objects.

    Without it, the occasional full collection over pandas' and pyarrow's objects made the
    slowest 1% of submissions ten times slower than the median.
    """
    gc.collect()
    gc.freeze()


@cache
def _malloc_trim() -> Callable[[int], int] | None:
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):  # not glibc: nothing to call
        return None


def release_free_memory() -> None:
    """Give the memory freed by the last batch back to the system (glibc's ``malloc_trim``).

    glibc keeps freed blocks in its arenas (one per thread that allocated), and a batch's
    pandas, Arrow and polars buffers leave holes there: about 30 MiB of the worker's peak on
    a 1M-record file. Trimming once per 10 MiB batch costs a few milliseconds; tuning the trim
    or mmap thresholds instead gave as much back but slowed processing by 10-25%.
    """
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
