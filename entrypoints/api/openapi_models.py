"""The bodies the API and its gateway send, as pydantic models for /openapi.json.

The app builds its answers from the use-cases' own results; these models only describe them,
and tests/unit/test_api_contract.py validates every answer against the document they make.
"""

from __future__ import annotations

from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

# Every code an error body's ``error`` can hold: the app's, then the gateway's (infra/template.yaml).
ErrorCode = Literal[
    "bad_request",
    "malformed_json",
    "unauthorized",
    "forbidden",
    "not_found",
    "method_not_allowed",
    "ambiguous_id",
    "payload_too_large",
    "unsupported_media_type",
    "invalid_submission",
    "service_unavailable",
    "http_error",
    "invalid_api_key",
    "throttled",
    "quota_exceeded",
    "gateway_timeout",
    "gateway_error",
]
ERROR_CODES: tuple[str, ...] = get_args(ErrorCode)
GATEWAY_ERRORS = ("invalid_api_key", "throttled", "quota_exceeded", "gateway_timeout", "gateway_error")


def _examples(*examples: dict[str, Any]) -> ConfigDict:
    """A body model's examples, shown in /openapi.json."""
    return ConfigDict(json_schema_extra={"examples": list(examples)})


class ErrorBody(BaseModel):
    model_config = _examples(
        {
            "error": "unauthorized",
            "message": "missing or unknown x-api-key header: send your dealership's key",
        },
        {"error": "malformed_json", "message": "the body is not valid JSON: unexpected end of data"},
    )
    error: ErrorCode = Field(description="a stable code: what went wrong, for programs")
    message: str = Field(description="what was wrong and what to do, for people")


class AmbiguousIdBody(ErrorBody):
    model_config = _examples(
        {
            "error": "ambiguous_id",
            "message": (
                "2 dealerships have a service record 'SR-1' (DLR-JKT-001, DLR-SBY-002): name one with ?dealer_id="
            ),
            "dealer_ids": ["DLR-JKT-001", "DLR-SBY-002"],
        }
    )
    dealer_ids: list[str] = Field(description="the dealerships that have a record with this id")


class ForbiddenBody(ErrorBody):
    model_config = _examples(
        {
            "error": "forbidden",
            "message": "1 record(s) (index 1) have a dealer.dealer_id other than this key's 'DLR-JKT-001'",
            "records": [1],
        }
    )
    records: list[int] | None = Field(
        default=None,
        description="indices of the records of another dealership (the first 100); absent in the gateway's 403",
    )


class Problem(BaseModel):
    index: int | None = Field(description="the record's position in the submission; null for the body")
    service_record_id: str | None
    field: str
    rule: str
    message: str


class InvalidSubmissionBody(ErrorBody):
    model_config = _examples(
        {
            "error": "invalid_submission",
            "message": "the submission was rejected whole: 1 problem(s) in 1 record(s) of the submission",
            "problem_count": 1,
            "problem_count_complete": True,
            "records_with_problems": 1,
            "problems": [
                {
                    "index": 0,
                    "service_record_id": "SR-1",
                    "field": "vehicle.vin",
                    "rule": "required",
                    "message": "required: the field is missing",
                }
            ],
        }
    )
    problem_count: int = Field(ge=0)
    problem_count_complete: bool = Field(description="false once counting stopped past 50,000")
    records_with_problems: int = Field(ge=0)
    problems: list[Problem] = Field(description="the first 100 problems", max_length=100)


class ErasureRequestBody(BaseModel):
    """An erasure request: a dealership's customer, or one of its records without a customer id."""

    model_config = _examples({"dealer_id": "DLR-JKT-001", "customer_id": "CUST-000123"})
    dealer_id: str = Field(min_length=1, description="the dealership the customer or record belongs to")
    customer_id: str | None = Field(
        default=None, min_length=1, description="the dealership's own id for the customer (or service_record_id)"
    )
    service_record_id: str | None = Field(
        default=None, min_length=1, description="one record, for records that carry no customer id (or customer_id)"
    )


class ErasureStatusBody(BaseModel):
    model_config = _examples(
        {
            "request_id": "3f0c9a52-0000-4000-8000-000000000001",
            "status": "received",
            "requested_at": "2026-11-26T09:30:00+00:00",
            "finished_at": None,
        }
    )
    request_id: str
    status: Literal["received", "erased", "traces_left", "nothing_held"] = Field(
        description="received until an operator carries it out (servicepipe forget --pending); then erased, "
        "traces_left (carried out again at the next run) or nothing_held (no store held the person)"
    )
    requested_at: str
    finished_at: str | None = Field(description="when it was carried out; null while received")


class ReceiptBody(BaseModel):
    model_config = _examples(
        {
            "status": "accepted",
            "submission_id": "0f0e0d0c-0000-4000-8000-000000000001",
            "file_key": "service-records/date=2026-11-26/09-30-00_0f0e0d0c-0000-4000-8000-000000000001.json",
            "record_count": 2,
        }
    )
    status: Literal["accepted"]
    submission_id: str
    file_key: str
    record_count: int = Field(ge=1)


class RuleBroken(BaseModel):
    field: str = Field(description="the field, as a path: vehicle.vin, service_details.parts_used[0].quantity")
    rule: str = Field(description="the rule's name (docs/api.md lists them)")
    message: str


class RejectedRow(BaseModel):
    index: int = Field(ge=0, description="the record's position in the submission")
    service_record_id: str | None
    errors: list[RuleBroken] = Field(description="every rule the row broke")


class SubmissionReportBody(BaseModel):
    model_config = _examples(
        {
            "submission_id": "0f0e0d0c-0000-4000-8000-000000000001",
            "status": "processed",
            "received_at": "2026-11-26T09:30:00+00:00",
            "record_count": 2,
            "valid_rows": 1,
            "rejected_rows": 1,
            "rejected": [
                {
                    "index": 1,
                    "service_record_id": "SR-2",
                    "errors": [{"field": "vehicle.vin", "rule": "vin_format", "message": "vin_format: ..."}],
                }
            ],
            "reason": None,
        }
    )
    submission_id: str
    status: Literal["received", "processed", "failed"] = Field(
        description="received: stored, not processed yet; processed: every row counted; failed: unreadable"
    )
    received_at: str = Field(json_schema_extra={"format": "date-time"})
    record_count: int | None = Field(description="null for a bulk upload until it is processed")
    valid_rows: int | None = Field(default=None, description="null until processed")
    rejected_rows: int | None = Field(default=None, description="null until processed")
    rejected: list[RejectedRow] = Field(default_factory=list)
    reason: str | None = Field(default=None, description="why a failed submission could not be read")


class LoadedServiceLine(BaseModel):
    service_code: str | None
    service_name: str
    service_cost: float
    technician_notes: str | None


class LoadedPartLine(BaseModel):
    part_code: str | None
    part_name: str
    quantity: int
    unit_cost: float


class LoadedDealer(BaseModel):
    dealer_id: str
    dealer_name: str | None
    dealer_location: str | None
    timezone: str = Field(description="the IANA zone of the dealership's local times (Asia/Jakarta, ...)")


class LoadedVehicle(BaseModel):
    vin: str
    model: str | None
    year: int | None
    odometer_reading: int


class LoadedServiceDetails(BaseModel):
    service_date: str = Field(json_schema_extra={"format": "date-time"}, description="UTC")
    service_advisor_name: str | None
    total_cost: float
    services_performed: list[LoadedServiceLine]
    parts_used: list[LoadedPartLine]


class LoadedCustomer(BaseModel):
    customer_id: str | None
    customer_name: str | None


class LoadedRecordBody(BaseModel):
    """A record as loaded: cleaned values, the service date in UTC, where it came from."""

    service_record_id: str
    vin: str = Field(description="trimmed, upper-case")
    service_date: str = Field(json_schema_extra={"format": "date-time"}, description="UTC, whole seconds")
    dealer_id: str
    dealer: LoadedDealer
    vehicle: LoadedVehicle
    service_details: LoadedServiceDetails
    customer: LoadedCustomer
    quality_flags: list[Literal["cost_mismatch"]] = Field(
        description="cost_mismatch: total_cost differs from the lines' sum"
    )
    record_index: int = Field(ge=0)
    submission_id: str
    source_file: str
    ingested_at: str = Field(json_schema_extra={"format": "date-time"}, description="when its file was received")


class HistoryPageBody(BaseModel):
    vin: str
    records: list[LoadedRecordBody] = Field(description="newest first")
    next_page: str | None = Field(description="pass it back as ?page= for the next records; null on the last page")


class HealthBody(BaseModel):
    status: Literal["ok"]
