"""The analytics tables published from processed files, in memory: what the report reads."""

from __future__ import annotations

from adapters.local.in_memory import FixedClock, InMemoryTableCatalog
from application.analytics.publish_tables import PublishTables
from application.ports import ObjectStore
from tests.factories import NOW


def published(cleaned: ObjectStore, errors: ObjectStore) -> InMemoryTableCatalog:
    """Every processed date of ``cleaned`` and ``errors`` published into a new catalog."""
    catalog = InMemoryTableCatalog()
    report = PublishTables(cleaned, errors, catalog, FixedClock(NOW))()
    assert report.ok, report.problems
    return catalog
