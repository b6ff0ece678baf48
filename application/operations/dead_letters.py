"""The dead-letter queue: messages the workers gave up on after the queue's maximum receives.

Operators list them (``servicepipe dlq list``) and, once the cause is mended, send them back
to the work queue (``servicepipe dlq redrive``). A redriven message is processed like any
other: a file's outputs are derived from its raw key, so processing it again never doubles them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class DeadLetter:
    """A message in the dead-letter queue; ``raw_keys`` are the raw files its S3 event names
    (none when ``problem`` says the body is not an S3 event)."""

    message_id: str
    receive_count: int
    sent_at: datetime | None
    raw_keys: list[str] = field(default_factory=list)
    problem: str | None = None

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class Redrive:
    """What ``redrive`` did: ``messages`` moved (local) or being moved (an SQS move task),
    ``started`` False when there was nothing to move or a move was already under way."""

    messages: int
    started: bool
    detail: str

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


class DeadLetterQueue(Protocol):
    def dead_letters(self, limit: int) -> list[DeadLetter]:
        """Up to ``limit`` dead letters, oldest first, left in the queue as they were."""
        ...

    def redrive(self) -> Redrive:
        """Move every dead letter back to the work queue, as a new message (receive count 0).
        Idempotent: with nothing there, or a move already running, it starts nothing."""
        ...
