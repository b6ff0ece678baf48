"""What a long-running or data-handling process sets before it builds anything."""

from __future__ import annotations

from entrypoints.logging_setup import configure_logging
from entrypoints.memory import limit_malloc_arenas, use_system_allocator


def start_process(log_level: str) -> None:
    """Structured logs at ``log_level``, glibc arenas limited (before any thread starts) and
    Arrow's allocator chosen (before Arrow first allocates): the CLI and the Fargate worker."""
    configure_logging(log_level)
    limit_malloc_arenas()
    use_system_allocator()
