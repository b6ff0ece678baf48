"""Process-wide memory settings for the entrypoints."""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import os
import sys
from collections.abc import Callable
from functools import cache


def use_system_allocator() -> None:
    """Let Arrow allocate with the system allocator.

    Arrow's default (mimalloc) keeps freed memory for reuse; batch after batch that held
    about 60 MiB more at peak, which a 512 MiB Fargate task cannot spare. (A fixed glibc
    mmap threshold saved another 40 MiB but cost a quarter of the speed on JSON arrays.)
    Before pyarrow is imported, Arrow's own setting says so, and importing pyarrow is left to
    the commands that need it (the API and most commands never do).
    """
    if sys.modules.get("pyarrow") is None:  # not imported yet (or made unimportable)
        os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")  # read when Arrow first allocates
        return
    import pyarrow as pa

    pa.set_memory_pool(pa.system_memory_pool())


def freeze_startup_objects() -> None:
    """Move everything allocated so far (imports, the app) out of the garbage collector's
    view, so that a full collection during a request walks only that request's objects.

    Without it, the occasional full collection over pandas' and pyarrow's objects made the
    slowest 1% of submissions ten times slower than the median.
    """
    gc.collect()
    gc.freeze()


_M_ARENA_MAX = -8  # mallopt's parameter number, from glibc's malloc.h
MALLOC_ARENAS = 2


@cache
def _libc() -> ctypes.CDLL | None:
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None


def limit_malloc_arenas() -> None:
    """Let all threads share ``MALLOC_ARENAS`` glibc arenas (call before starting threads).

    glibc gives each allocating thread an arena of its own, up to 8 per core, and each keeps
    its freed memory: with several files in hand (lanes, their processing and commit threads)
    a worker held about 470 MiB for 200 files of 10 records, against 285 MiB with two arenas,
    at the same speed. An environment's ``MALLOC_ARENA_MAX`` still wins.
    """
    libc = _libc()
    mallopt = getattr(libc, "mallopt", None)
    if mallopt is not None and "MALLOC_ARENA_MAX" not in os.environ:
        mallopt(_M_ARENA_MAX, MALLOC_ARENAS)


@cache
def _malloc_trim() -> Callable[[int], int] | None:
    return getattr(_libc(), "malloc_trim", None)  # not glibc: nothing to call


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
