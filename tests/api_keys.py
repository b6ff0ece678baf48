"""The HTTP app with a key store of its own, for tests: an admin key unless a dealer is named."""

from __future__ import annotations

from typing import Any

from adapters.local.in_memory import FixedClock, InMemoryApiKeyStore, InMemoryObjectStore
from application.api_keys import Authenticate, IssueApiKey
from application.submission_status import SubmissionStatus
from entrypoints.http_app import create_app
from tests.factories import NOW


def keyed_app(
    submit_record: Any,
    dealer_id: str | None = None,
    submission_status: Any = None,
    vehicle_history: Any = None,
    record_lookup: Any = None,
) -> tuple[Any, str, InMemoryApiKeyStore]:
    """(app, a key for ``dealer_id`` or an admin key, the store holding it)."""
    store = InMemoryApiKeyStore()
    _, key = IssueApiKey(store, FixedClock(NOW))(dealer_id, admin=dealer_id is None)
    if submission_status is None:
        nowhere = InMemoryObjectStore(NOW)
        submission_status = lambda: SubmissionStatus(nowhere, nowhere, nowhere)  # noqa: E731
    app = create_app(submit_record, lambda: Authenticate(store), submission_status, vehicle_history, record_lookup)
    return app, key, store
