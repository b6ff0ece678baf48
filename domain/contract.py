"""The public record contract: the JSON that dealer systems send.

These pydantic models check *structure* only (types and required fields). Business
rules (VIN format, ranges, dates) are columnar and live in ``domain.rules``.
Unknown extra fields are accepted and ignored.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class _Contract(BaseModel):
    # Dealer systems often send numeric ids; accept them as strings rather than reject.
    model_config = ConfigDict(extra="ignore", coerce_numbers_to_str=True)


class ServicePerformed(_Contract):
    service_code: str | None = None
    service_name: str
    service_cost: float
    technician_notes: str | None = None


class PartUsed(_Contract):
    part_code: str | None = None
    part_name: str
    quantity: int
    unit_cost: float


class Dealer(_Contract):
    dealer_id: str
    dealer_name: str | None = None
    dealer_location: str | None = None


class Vehicle(_Contract):
    vin: str
    model: str | None = None
    year: int | None = None
    odometer_reading: int


class ServiceDetails(_Contract):
    service_date: str
    service_advisor_name: str | None = None
    total_cost: float
    services_performed: list[ServicePerformed] = Field(default_factory=list)
    parts_used: list[PartUsed] = Field(default_factory=list)


class Customer(_Contract):
    customer_id: str | None = None
    customer_name: str | None = None


class ServiceRecord(_Contract):
    """One service visit as a dealer submits it."""

    service_record_id: str
    dealer: Dealer
    vehicle: Vehicle
    service_details: ServiceDetails
    customer: Customer | None = None
