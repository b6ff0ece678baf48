"""What moto needs to stand in for DynamoDB under concurrent transactions.

moto backs up a table by deep-copying it at the start of every TransactWriteItems, while
other threads' transactions change it ("dictionary changed size during iteration"). DynamoDB
itself takes concurrent transactions; the loader sends a few at once. Serialising moto's
transactions keeps its answers those of DynamoDB. Used by the sandbox and the tests.
"""

from __future__ import annotations

import functools
import threading
from typing import Any

_lock = threading.Lock()


def serialise_dynamodb_transactions() -> None:
    """Run moto's TransactWriteItems one at a time, in this process (idempotent)."""
    from moto.dynamodb.models import DynamoDBBackend

    original = DynamoDBBackend.transact_write_items
    if getattr(original, "serialised", False):
        return

    @functools.wraps(original)
    def one_at_a_time(self: Any, *args: Any, **kwargs: Any) -> Any:
        with _lock:
            return original(self, *args, **kwargs)

    one_at_a_time.serialised = True  # type: ignore[attr-defined]
    DynamoDBBackend.transact_write_items = one_at_a_time  # type: ignore[method-assign]
