"""What each analytics table gives up for an erasure (``domain.erasure``): which rows, and
whether they stay without the person or go. Its own module: ``domain.erasure`` is imported by
the API, which must not load the analytics tables' Arrow schemas."""

from __future__ import annotations

from dataclasses import dataclass

from domain.analytics_tables import FACT_TABLE, changes_table, history_table
from domain.erasure import TECHNICIAN_NOTES, ErasureTarget

CUSTOMER_DIMENSION = "dim_customer"
CUSTOMER_DIMENSIONS = (CUSTOMER_DIMENSION, changes_table(CUSTOMER_DIMENSION), history_table(CUSTOMER_DIMENSION))
SERVICE_LINES = "dim_services_performed"


@dataclass(frozen=True)
class TableErasure:
    """How one analytics table gives up a person's rows: which rows (``where``: column ->
    values), and whether they stay with ``blank`` columns set to null or go (``blank`` None)."""

    table: str
    where: dict[str, list[str]]
    blank: tuple[str, ...] | None


def published_erasures(target: ErasureTarget, records: set[str]) -> list[TableErasure]:
    """What each analytics table gives up for ``target`` (``records``: their record ids). The
    fact rows stay (the vehicle's history) without their customer; their service lines without
    notes; a customer's dimension rows go, every version."""
    dealer = [target.dealer]
    if target.customer_id is not None:
        customer = {"dealer_id": dealer, "customer_id": [target.customer_id.strip()]}
        erasures = [TableErasure(FACT_TABLE, customer, ("customer_id",))]
        erasures += [TableErasure(name, customer, None) for name in CUSTOMER_DIMENSIONS]
    else:
        records = records | {(target.service_record_id or "").strip()}
        theirs = {"dealer_id": dealer, "service_record_id": sorted(records)}
        erasures = [TableErasure(FACT_TABLE, theirs, ("customer_id",))]
    if records:
        lines = {"dealer_id": dealer, "service_record_id": sorted(records)}
        erasures.append(TableErasure(SERVICE_LINES, lines, (TECHNICIAN_NOTES,)))
    return erasures
