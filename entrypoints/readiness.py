"""Start-up checks: a worker or loader whose bucket, queue or table is missing refuses to
start, saying which setting to fix, instead of failing (or losing work) later."""

from __future__ import annotations

import logging
import sys
from typing import Protocol

from application.errors import ConfigurationError

log = logging.getLogger(__name__)

EXIT_CONFIGURATION = 2  # the settings name something that does not exist


class _Verifiable(Protocol):
    def verify(self) -> None: ...


def configuration_problems(*resources: _Verifiable) -> list[str]:
    """Every resource's problem, in order; empty when all are ready."""
    problems = []
    for resource in resources:
        try:
            resource.verify()
        except ConfigurationError as err:
            problems.append(str(err))
    return problems


def refuse_to_start(program: str, *resources: _Verifiable) -> bool:
    """Print and log every problem; True when the program must exit."""
    problems = configuration_problems(*resources)
    for problem in problems:
        log.error(f"not starting: {problem}")
        print(f"{program}: cannot start: {problem}", file=sys.stderr)
    return bool(problems)
