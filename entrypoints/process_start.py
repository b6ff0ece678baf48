"""What a long-running or data-handling process sets before it builds anything, and how it ends."""

from __future__ import annotations

import gc
import sys
from typing import NoReturn

from entrypoints.logging_setup import configure_logging
from entrypoints.memory import limit_malloc_arenas, use_system_allocator


def start_process(log_level: str) -> None:
    """Structured logs at ``log_level``, glibc arenas limited (before any thread starts) and
    Arrow's allocator chosen (before Arrow first allocates): the CLI and the Fargate worker."""
    configure_logging(log_level)
    limit_malloc_arenas()
    use_system_allocator()


def end_process(code: int) -> NoReturn:
    """Exit with ``code``, the objects made so far frozen out of the garbage collector's view:
    the interpreter's collections at exit walked every one a data command had made (pyarrow's,
    pandas', the modules'), half a second of ``servicepipe forget``. Frozen objects in a cycle
    are then never collected: what must be closed at exit closes through ``weakref.finalize``
    (the record index's SQLite connection), which runs at exit whatever the collector does."""
    gc.freeze()
    sys.exit(code)
