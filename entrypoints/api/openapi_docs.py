"""What ``/openapi.json`` says about the API: bodies, every status the app or its gateway
sends, the key, stable operation ids, the stage's URL, examples.

``POST /service-records`` reads its raw body itself (to stream it under the 6 MiB limit and
judge it with the same contract as a bulk upload), so FastAPI cannot see its body type: the
request schema is written here from the contract model (``domain.contract.ServiceRecord``).
The bodies are the models of ``entrypoints/api/openapi_models.py``. The document is also
committed as docs/openapi.json (``entrypoints/api/openapi_file.py`` writes it).
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel

from domain.contract import ServiceRecord
from domain.limits import MAX_RECORDS_PER_SUBMISSION
from entrypoints.api.openapi_models import (
    AmbiguousIdBody,
    ErasureStatusBody,
    ErrorBody,
    ForbiddenBody,
    HealthBody,
    HistoryPageBody,
    InvalidSubmissionBody,
    LoadedRecordBody,
    ReceiptBody,
    SubmissionReportBody,
)

SECURITY: list[dict[str, list[str]]] = [{"dealerKey": []}]
PUBLIC = {"/health", "/openapi.json"}
SERVERS: list[dict[str, Any]] = [
    {
        "url": "https://{api_id}.execute-api.{region}.amazonaws.com/v1",
        "description": "the stack's stage v1 (output ApiUrl)",
        "variables": {
            "api_id": {"default": "abc123", "description": "the REST API's id"},
            "region": {"default": "ap-southeast-3", "description": "the stack's region"},
        },
    },
    {"url": "http://127.0.0.1:8000", "description": "servicepipe serve, on this machine"},
]


def _error(description: str, model: type[BaseModel] = ErrorBody) -> dict[str, Any]:
    return {"model": model, "description": description}


# What API Gateway answers itself, before or instead of the app (infra/template.yaml's
# GatewayResponses give each the project's ErrorBody).
GATEWAY: dict[int | str, dict[str, Any]] = {
    403: _error("API Gateway: x-api-key missing or unknown to the usage plan (error invalid_api_key)"),
    429: _error("API Gateway: the key's rate or daily quota is used up (error throttled or quota_exceeded)"),
    503: _error("a store (bucket or table) refused or could not answer: nothing changed; retry after Retry-After"),
    504: _error("API Gateway: the app did not answer within 29 s (error gateway_timeout); retry"),
    "5XX": _error("API Gateway: the app failed (error gateway_error); retry later"),
}
KEYED: dict[int | str, dict[str, Any]] = {
    401: _error("x-api-key unknown or revoked to the app (error unauthorized)"),
    **GATEWAY,
}
SUBMIT_RESPONSES: dict[int | str, dict[str, Any]] = {
    202: {"model": ReceiptBody, "description": "structurally sound and stored; rules are checked row by row later"},
    400: _error("the body is not valid JSON (error malformed_json)"),
    **KEYED,
    403: _error(
        "a dealer's key sent another dealership's records, nothing stored (error forbidden, with records); "
        "or API Gateway: x-api-key missing or unknown (error invalid_api_key)",
        ForbiddenBody,
    ),
    413: _error(f"over 6 MiB, or over {MAX_RECORDS_PER_SUBMISSION:,} records: split it, or upload a bulk file"),
    415: _error("a Content-Type other than application/json"),
    422: _error("a structural problem: the whole submission refused, every problem counted", InvalidSubmissionBody),
}
SUBMISSION_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"model": SubmissionReportBody, "description": "what became of the submission"},
    **KEYED,
    404: _error("no such submission for this key (another dealer's looks the same)"),
}
RECORD_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"model": LoadedRecordBody, "description": "the loaded record"},
    400: _error("an empty dealer_id (error bad_request)"),
    **KEYED,
    404: _error("this key's dealership has no loaded record with this id (another dealership's looks the same)"),
    409: _error("admin keys: several dealerships use this id; name one with ?dealer_id=", AmbiguousIdBody),
}
HISTORY_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"model": HistoryPageBody, "description": "one page of the vehicle's loaded records, newest first"},
    400: _error("a page token no earlier page gave, or a limit outside 1 to 200 (error bad_request)"),
    **KEYED,
}
ADMIN_ONLY = _error(
    "a dealer's key: erasure requests are filed with an admin key (error forbidden); "
    "or API Gateway: x-api-key missing or unknown (error invalid_api_key)"
)
ERASURE_REQUEST_RESPONSES: dict[int | str, dict[str, Any]] = {
    202: {"model": ErasureStatusBody, "description": "received: carried out by the operator's next forget --pending"},
    400: _error("no dealer_id, or not exactly one of customer_id and service_record_id (error bad_request)"),
    **KEYED,
    403: ADMIN_ONLY,
}
ERASURE_STATUS_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"model": ErasureStatusBody, "description": "the request's status"},
    **KEYED,
    403: ADMIN_ONLY,
    404: _error("no erasure request with this id"),
}
HEALTH_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"model": HealthBody, "description": "the app answers"},
    429: GATEWAY[429],
    504: GATEWAY[504],
    "5XX": GATEWAY["5XX"],
}


# The example's day and ids are fixed: dated from today, the committed document (a test holds
# it equal to what the app serves) went out of date the next morning.
EXAMPLE_DAY = datetime(2026, 11, 25, tzinfo=timezone.utc)


def _example_record() -> dict[str, Any]:
    from entrypoints.sample_data import generate_records

    return next(iter(generate_records(1, bad_fraction=0, seed=7, now=EXAMPLE_DAY, id_prefix="SR-2026")))


def build(app: FastAPI) -> dict[str, Any]:
    """The document of ``app``'s routes."""
    schema = get_openapi(
        title=app.title,
        version=app.version,
        description=app.description,
        routes=app.routes,
        servers=SERVERS,
    )
    record = ServiceRecord.model_json_schema(ref_template="#/components/schemas/{model}")
    components = schema.setdefault("components", {})
    components.setdefault("schemas", {}).update(record.pop("$defs", {}))
    components["schemas"]["ServiceRecord"] = record
    # The app answers a bad parameter with 400 and ErrorBody, never FastAPI's 422 shape.
    for name in ("HTTPValidationError", "ValidationError"):
        components["schemas"].pop(name, None)
    components["securitySchemes"] = {
        "dealerKey": {
            "type": "apiKey",
            "in": "header",
            "name": "x-api-key",
            "description": "a dealership's key (send it as the x-api-key header: not as Authorization)",
        }
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
        for method, operation in operations.items():
            responses = operation["responses"]
            if "422" in responses and (path, method) != ("/service-records", "post"):
                del responses["422"]
            if path not in PUBLIC:
                operation["security"] = SECURITY
    return schema


def document(app: FastAPI) -> None:
    """Replace ``app.openapi`` with ``build``, computed once."""

    def openapi() -> dict[str, Any]:
        if not app.openapi_schema:
            app.openapi_schema = build(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def rendered(app: Any) -> str:
    """The document as committed in docs/openapi.json: sorted keys, two-space indent."""
    return json.dumps(app.openapi(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
