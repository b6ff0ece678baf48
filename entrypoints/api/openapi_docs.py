"""What ``/openapi.json`` says about the API: bodies, every status, the key, examples.

``POST /service-records`` reads its raw body itself (to stream it under the 6 MiB limit and
judge it with the same contract as a bulk upload), so FastAPI cannot see its body type: the
request schema is written here from the contract model (``domain.contract.ServiceRecord``).
The error and answer shapes are pydantic models used only for this document.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, ConfigDict, Field

from domain.contract import ServiceRecord
from domain.limits import MAX_RECORDS_PER_SUBMISSION


def _examples(*examples: dict[str, Any]) -> ConfigDict:
    """A body model's examples, shown in /openapi.json."""
    return ConfigDict(json_schema_extra={"examples": list(examples)})


SECURITY: list[dict[str, list[str]]] = [{"dealerKey": []}]
PUBLIC = {"/health", "/openapi.json"}


class ErrorBody(BaseModel):
    model_config = _examples(
        {
            "error": "unauthorized",
            "message": "missing or unknown x-api-key header: send your dealership's key",
        },
        {"error": "malformed_json", "message": "the body is not valid JSON: unexpected end of data"},
    )
    error: str = Field(
        description="a short code: unauthorized, forbidden, not_found, payload_too_large, service_unavailable, ..."
    )
    message: str = Field(description="what was wrong and what to do")


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
    records: list[int] = Field(description="indices of the records of another dealership (the first 100)")


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
    problem_count: int
    problem_count_complete: bool = Field(description="false once counting stopped past 50,000")
    records_with_problems: int
    problems: list[Problem] = Field(description="the first 100 problems")


class ReceiptBody(BaseModel):
    model_config = _examples(
        {
            "status": "accepted",
            "submission_id": "0f0e0d0c-0000-4000-8000-000000000001",
            "file_key": "service-records/date=2026-11-26/09-30-00_0f0e0d0c-0000-4000-8000-000000000001.json",
            "record_count": 2,
        }
    )
    status: str
    submission_id: str
    file_key: str
    record_count: int


def _error(description: str, model: type[BaseModel] = ErrorBody) -> dict[str, Any]:
    return {"model": model, "description": description}


UNAVAILABLE = _error("a store (bucket or table) refused or could not answer: nothing changed; retry after Retry-After")
SUBMIT_RESPONSES: dict[int | str, dict[str, Any]] = {
    202: {"model": ReceiptBody, "description": "structurally sound and stored; rules are checked row by row later"},
    400: _error("the body is not valid JSON"),
    401: _error("x-api-key missing, unknown or revoked (on AWS, API Gateway answers 403 first for unknown keys)"),
    403: _error("a dealer's key sent another dealership's records; nothing was stored", ForbiddenBody),
    413: _error(f"over 6 MiB, or over {MAX_RECORDS_PER_SUBMISSION:,} records: split it, or upload a bulk file"),
    415: _error("a Content-Type other than application/json"),
    422: _error("a structural problem: the whole submission refused, every problem counted", InvalidSubmissionBody),
    503: UNAVAILABLE,
}
READ_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: _error("x-api-key missing, unknown or revoked"),
    404: _error("no such thing for this key (another dealer's submission looks the same)"),
    503: UNAVAILABLE,
}
RECORD_RESPONSES: dict[int | str, dict[str, Any]] = {
    **READ_RESPONSES,
    400: _error("an empty dealer_id"),
    404: _error("this key's dealership has no loaded record with this id (another dealership's looks the same)"),
    409: _error("admin keys: several dealerships use this id; name one with ?dealer_id=", AmbiguousIdBody),
}
HISTORY_RESPONSES: dict[int | str, dict[str, Any]] = {
    **READ_RESPONSES,
    400: _error("a page token no earlier page gave, or a limit outside 1 to 200"),
}


def _example_record() -> dict[str, Any]:
    from entrypoints.sample_data import generate_records

    return next(iter(generate_records(1, bad_fraction=0, seed=7)))


def document(app: FastAPI) -> None:
    """Replace ``app.openapi`` with one that adds the submission body, the key and examples."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        record = ServiceRecord.model_json_schema(ref_template="#/components/schemas/{model}")
        components = schema.setdefault("components", {})
        components.setdefault("schemas", {}).update(record.pop("$defs", {}))
        components["schemas"]["ServiceRecord"] = record
        components["securitySchemes"] = {
            "dealerKey": {"type": "apiKey", "in": "header", "name": "x-api-key", "description": "a dealership's key"}
        }
        one = {"$ref": "#/components/schemas/ServiceRecord"}
        many = {"type": "array", "items": one, "minItems": 1, "maxItems": MAX_RECORDS_PER_SUBMISSION}
        submit = schema["paths"]["/service-records"]["post"]
        submit["requestBody"] = {
            "required": True,
            "description": "a JSON array of service records, or one record; at most 6 MiB",
            "content": {"application/json": {"schema": {"oneOf": [many, one]}, "example": [_example_record()]}},
        }
        for path, operations in schema["paths"].items():
            if path not in PUBLIC:
                for operation in operations.values():
                    operation["security"] = SECURITY
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
