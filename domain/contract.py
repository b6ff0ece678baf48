"""The public record contract: the JSON that dealer systems send.

These pydantic models check *structure*: types, required fields, and the bounds in
``domain.limits`` that keep one record storable everywhere. The same models judge a record
at the API and, for rows pyarrow cannot read as they are, in the worker, so both doors give
the same verdict. Business rules (VIN format, ranges, dates in range) are columnar and live
in ``domain.rules``. Unknown extra fields are accepted and ignored.

A custom error's type is the rule name the worker reports (``PydanticCustomError``).
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError

from domain.limits import CONTROL_CHARACTERS, INT64_MAX, INT64_MIN, MAX_LINE_ITEMS
from domain.rule_catalog import RULES
from domain.service_dates import is_service_date

_CONTROL = re.compile(CONTROL_CHARACTERS)


def _not_a_boolean(value: Any) -> Any:
    if isinstance(value, bool):
        raise PydanticCustomError("wrong_type", "a boolean is not a number")
    return value


def _broken(rule: str) -> PydanticCustomError:
    """The error of a broken rule: its name as the type, its meaning as the message."""
    return PydanticCustomError(rule, RULES[rule].message)


def _no_control_characters(value: str) -> str:
    if _CONTROL.search(value):
        raise _broken("control_character")
    return value


def _not_blank(value: str) -> str:
    if not value.strip():
        raise _broken("required")
    return value


def _a_service_date(value: str) -> str:
    if not is_service_date(value):
        raise _broken("service_date_format")
    return value


Text = Annotated[str, AfterValidator(_no_control_characters)]
# minLength in the schema only: the check itself is "not blank", reported as rule `required`.
RequiredText = Annotated[Text, AfterValidator(_not_blank), Field(json_schema_extra={"minLength": 1})]
ServiceDate = Annotated[
    RequiredText,
    AfterValidator(_a_service_date),
    Field(
        json_schema_extra={"format": "date-time"},
        description=(
            "ISO 8601 (RFC 3339 recommended); a time without an offset is WIB (UTC+7), a date alone is midnight WIB"
        ),
    ),
]
# Numbers: never booleans, never NaN or infinite, integers within 64 bits.
Amount = Annotated[float, BeforeValidator(_not_a_boolean), Field(allow_inf_nan=False)]
# The bounds before the validator: after it, pydantic writes them into the JSON schema as
# "ge"/"le", which JSON Schema ignores, instead of "minimum"/"maximum".
Integer = Annotated[int, Field(ge=INT64_MIN, le=INT64_MAX), BeforeValidator(_not_a_boolean)]


class _Contract(BaseModel):
    # Dealer systems often send numeric ids; accept them as strings rather than reject.
    model_config = ConfigDict(extra="ignore", coerce_numbers_to_str=True)


class ServicePerformed(_Contract):
    service_code: Text | None = None
    service_name: Text
    service_cost: Amount
    technician_notes: Text | None = None


class PartUsed(_Contract):
    part_code: Text | None = None
    part_name: Text
    quantity: Integer
    unit_cost: Amount


class Dealer(_Contract):
    dealer_id: RequiredText
    dealer_name: Text | None = None
    dealer_location: Text | None = None


class Vehicle(_Contract):
    vin: RequiredText
    model: Text | None = None
    year: Integer | None = None
    odometer_reading: Integer


class ServiceDetails(_Contract):
    service_date: ServiceDate
    service_advisor_name: Text | None = None
    total_cost: Amount
    # A list, or absent: null is not a list.
    services_performed: list[ServicePerformed] = Field(default_factory=list, max_length=MAX_LINE_ITEMS)
    parts_used: list[PartUsed] = Field(default_factory=list, max_length=MAX_LINE_ITEMS)


class Customer(_Contract):
    customer_id: Text | None = None
    customer_name: Text | None = None


class ServiceRecord(_Contract):
    """One service visit as a dealer submits it."""

    service_record_id: RequiredText
    dealer: Dealer
    vehicle: Vehicle
    service_details: ServiceDetails
    customer: Customer | None = None
