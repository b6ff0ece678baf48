"""Errors the use-cases raise or expect from adapters."""

from __future__ import annotations


class ObjectNotFound(KeyError):
    """The store has no object at that key."""


class TransientError(RuntimeError):
    """A failure worth retrying later: throttling, a network error, a busy store."""


class UnreadableFile(ValueError):
    """A raw file that cannot be read at all (not JSON, wrong shape, empty). Permanent.

    ``kind`` names the problem without quoting the file, so that it is safe to log.
    """

    def __init__(self, message: str, kind: str) -> None:
        super().__init__(message)
        self.kind = kind


class ConfigurationError(RuntimeError):
    """A bucket, queue or table that is missing or refuses access: a deployment's settings
    are wrong. Never a reason to drop work; ``setting`` names what to fix."""

    def __init__(self, message: str, setting: str = "") -> None:
        super().__init__(message)
        self.setting = setting


class RawFileMissing(LookupError):
    """The raw object a queue message names no longer exists (deleted after it was queued)."""


class BadPageToken(ValueError):
    """A page token the repository did not make (edited, or from another listing)."""


class MessageNotHeld(LookupError):
    """The receipt handle no longer holds its message: the message was deleted, or its
    visibility lapsed (and another worker may have received it). Its file is the new
    holder's to finish and delete."""
