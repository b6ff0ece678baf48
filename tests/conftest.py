from __future__ import annotations

import pytest

from adapters.local.in_memory import FixedClock, InMemoryObjectStore, InMemoryQueue, InMemoryRecordRepository
from tests.factories import NOW


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def raw() -> InMemoryObjectStore:
    return InMemoryObjectStore(now=NOW)


@pytest.fixture
def cleaned() -> InMemoryObjectStore:
    return InMemoryObjectStore(now=NOW)


@pytest.fixture
def errors() -> InMemoryObjectStore:
    return InMemoryObjectStore(now=NOW)


@pytest.fixture
def queue() -> InMemoryQueue:
    return InMemoryQueue()


@pytest.fixture
def repository() -> InMemoryRecordRepository:
    return InMemoryRecordRepository()
