"""Scratch space on the local disk (also the AWS worker's: Fargate tasks have one)."""

from __future__ import annotations

import tempfile
from contextlib import AbstractContextManager
from typing import BinaryIO


class TemporaryFiles:
    def __init__(self, directory: str | None = None) -> None:
        self._directory = directory or None

    def temporary_file(self) -> AbstractContextManager[BinaryIO]:
        return tempfile.TemporaryFile(dir=self._directory)  # noqa: SIM115 - the caller's `with` closes it
