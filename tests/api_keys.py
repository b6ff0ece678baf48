"""The HTTP app with a key store of its own, for tests: an admin key unless a dealer is named."""

from __future__ import annotations

from typing import Any

from adapters.local.in_memory import FixedClock, InMemoryApiKeyStore
from application.api_keys import Authenticate, IssueApiKey
from entrypoints.http_app import create_app
from tests.factories import NOW


def keyed_app(submit_record: Any, dealer_id: str | None = None) -> tuple[Any, str, InMemoryApiKeyStore]:
    """(app, a key for ``dealer_id`` or an admin key, the store holding it)."""
    store = InMemoryApiKeyStore()
    _, key = IssueApiKey(store, FixedClock(NOW))(dealer_id, admin=dealer_id is None)
    return create_app(submit_record, lambda: Authenticate(store)), key, store
