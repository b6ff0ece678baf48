"""The HTTP API (FastAPI): the same app runs under ``servicepipe serve`` and in Lambda.

Every error answers ``{"error", "message"}``, 404 and 405 included. ``/openapi.json`` is public
(``entrypoints/api/openapi_docs.py``); there is no ``/docs`` page: FastAPI's loads its scripts
from a CDN, which a dealer's network or an offline machine may not reach.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect
from starlette.responses import Response

from application.access.api_keys import Authenticate
from application.erasure.erasure_requests import ErasureRequestStatus, FileErasureRequest
from application.errors import BadPageToken, ConfigurationError, TransientError
from application.history.vehicle_history import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    AmbiguousRecordId,
    BadPageSize,
    ServiceRecordLookup,
    VehicleHistory,
)
from application.intake.submission_status import SubmissionStatus
from application.intake.submit_record import (
    MAX_SUBMISSION_BYTES,
    MalformedSubmission,
    SubmissionForbidden,
    SubmissionRejected,
    SubmissionTooLarge,
    SubmitRecord,
)
from domain.dealer_access import Caller
from domain.erasure import ErasureRequestError, ErasureTarget
from entrypoints.api.access_log import AccessLog
from entrypoints.api.openapi_docs import (
    ERASURE_REQUEST_RESPONSES,
    ERASURE_STATUS_RESPONSES,
    HEALTH_RESPONSES,
    HISTORY_RESPONSES,
    RECORD_RESPONSES,
    SUBMISSION_RESPONSES,
    SUBMIT_RESPONSES,
    document,
)
from entrypoints.api.openapi_models import ErasureRequestBody

if TYPE_CHECKING:
    from entrypoints.container import Container

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 60
_ERROR_CODES = {404: "not_found", 405: "method_not_allowed"}
UNAUTHORIZED = (
    "missing or unknown x-api-key header: send your dealership's key (the operator issues it with "
    "`servicepipe dealers add DEALER_ID`)"
)
ADMIN_ONLY = "erasure requests are filed and followed with an admin key (the operator's); a dealer's key cannot"
UNAVAILABLE = (
    "the service cannot reach its storage right now; nothing was changed by this request: "
    "try again in a minute, and tell the operator if it lasts"
)
TOO_LARGE = (
    f"the body is larger than {MAX_SUBMISSION_BYTES:,} bytes (6 MiB); split it into smaller batches, "
    "or upload a bulk file"
)


def _error(status: int, code: str, message: str, **extra: object) -> JSONResponse:
    return JSONResponse({"error": code, "message": message, **extra}, status_code=status)


def caller_of(request: Request, authenticate: Callable[[str], Caller | None]) -> Caller | None:
    """Who is calling, from the ``x-api-key`` header: the one place the caller is resolved.

    Behind API Gateway the same header was already checked against the usage plan (which
    answers 403 itself for a key it does not know); here it is mapped to its dealership.
    """
    return authenticate(request.headers.get("x-api-key", ""))


def json_body(content_type: str | None) -> bool:
    """Whether a Content-Type header announces JSON (no header is taken as JSON)."""
    if not content_type:
        return True
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type == "application/json" or (media_type.startswith("application/") and media_type.endswith("+json"))


def create_app(
    submit_record: Callable[[], SubmitRecord],
    authenticate: Callable[[], Authenticate],
    submission_status: Callable[[], SubmissionStatus],
    vehicle_history: Callable[[], VehicleHistory] | None = None,
    record_lookup: Callable[[], ServiceRecordLookup] | None = None,
    file_erasure_request: Callable[[], FileErasureRequest] | None = None,
    erasure_request_status: Callable[[], ErasureRequestStatus] | None = None,
) -> Any:
    """The app, wrapped in its access log; each argument builds its use-case on first use
    (no AWS client at import)."""
    app = FastAPI(title="servicepipe API", version="1.0", docs_url=None, redoc_url=None)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        code = _ERROR_CODES.get(exc.status_code, "http_error")
        if exc.status_code == 404:
            message = (
                f"no route {request.url.path}: the API serves POST /service-records, "
                "GET /service-records/{id}, GET /submissions/{id}, GET /vehicles/{vin}/service-records, "
                "POST /erasure-requests, GET /erasure-requests/{id} and GET /health"
            )
        elif exc.status_code == 405:
            allowed = (exc.headers or {}).get("Allow", "")
            message = f"{request.method} is not allowed on {request.url.path}" + (f"; use {allowed}" if allowed else "")
        else:
            message = str(exc.detail)
        response = _error(exc.status_code, code, message)
        response.headers.update(exc.headers or {})  # 405's Allow header (RFC 9110)
        return response

    @app.exception_handler(RequestValidationError)
    async def bad_parameter(request: Request, exc: RequestValidationError) -> Response:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        return _error(400, "bad_request", problems)

    @app.exception_handler(ConfigurationError)
    @app.exception_handler(TransientError)
    async def store_refused(request: Request, exc: Exception) -> Response:
        # A bucket or table that refuses this role (its IAM policy), is missing, or is busy:
        # the caller gets a clear 503, the operator the cause (names of resources, no records).
        setting = getattr(exc, "setting", "")
        log.error(f"a store refused the request: {exc}", extra={"error_type": type(exc).__name__, "setting": setting})
        response = _error(503, "service_unavailable", UNAVAILABLE)
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response

    @app.get("/health", responses=HEALTH_RESPONSES, operation_id="getHealth", tags=["health"], summary="Is it up")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    async def for_caller(request: Request, answer: Callable[[Caller], Response]) -> Response:
        """401 without a valid key; else ``answer`` for the caller, off the event loop (the
        use-cases read storage synchronously)."""
        caller = await run_in_threadpool(caller_of, request, authenticate())
        if caller is None:
            return _error(401, "unauthorized", UNAUTHORIZED)
        return await run_in_threadpool(answer, caller)

    @app.get(
        "/submissions/{submission_id}",
        responses=SUBMISSION_RESPONSES,
        operation_id="getSubmission",
        tags=["submissions"],
        summary="What became of a submission",
    )
    async def submission(submission_id: str, request: Request) -> Response:
        def answer(caller: Caller) -> Response:
            report = submission_status()(submission_id, caller)
            if report is None:  # another dealer's looks the same as none: ids cannot be probed
                return _error(404, "not_found", f"no submission {submission_id!r} of yours")
            return JSONResponse(report.to_dict())

        return await for_caller(request, answer)

    if vehicle_history is not None:
        history_of = vehicle_history

        @app.get(
            "/vehicles/{vin}/service-records",
            responses=HISTORY_RESPONSES,
            operation_id="listVehicleHistory",
            tags=["history"],
            summary="A vehicle's history",
        )
        async def history(
            vin: str,
            request: Request,
            # Bounds declared for clients; the use-case checks them with its own message.
            limit: Annotated[
                int,
                Query(
                    description=f"records per page, 1 to {MAX_PAGE_SIZE}",
                    json_schema_extra={"minimum": 1, "maximum": MAX_PAGE_SIZE},
                ),
            ] = DEFAULT_PAGE_SIZE,
            # Not empty: a client that sends back an absent next_page as "" would loop on page one.
            page: Annotated[str | None, Query(min_length=1)] = None,
        ) -> Response:
            def answer(caller: Caller) -> Response:
                try:
                    return JSONResponse(history_of()(vin, caller, limit, page).to_dict())
                except (BadPageSize, BadPageToken) as err:
                    return _error(400, "bad_request", str(err))

            return await for_caller(request, answer)

    if record_lookup is not None:
        lookup = record_lookup

        @app.get(
            "/service-records/{service_record_id}",
            responses=RECORD_RESPONSES,
            operation_id="getServiceRecord",
            tags=["history"],
            summary="One loaded record",
        )
        async def service_record(
            service_record_id: str,
            request: Request,
            dealer_id: Annotated[
                str | None,
                Query(min_length=1, description="the dealership whose record this is (a dealer's key: its own)"),
            ] = None,
        ) -> Response:
            def answer(caller: Caller) -> Response:
                try:
                    record = lookup()(service_record_id, caller, dealer_id)
                except AmbiguousRecordId as err:
                    return _error(409, "ambiguous_id", str(err), dealer_ids=err.dealer_ids)
                if record is None:
                    return _error(404, "not_found", f"no loaded service record {service_record_id!r} of yours")
                return JSONResponse(record)

            return await for_caller(request, answer)

    if file_erasure_request is not None and erasure_request_status is not None:
        file_request, request_status = file_erasure_request, erasure_request_status

        @app.post(
            "/erasure-requests",
            status_code=202,
            responses=ERASURE_REQUEST_RESPONSES,
            operation_id="fileErasureRequest",
            tags=["erasure"],
            summary="File a customer's erasure request",
        )
        async def erasure_request(body: ErasureRequestBody, request: Request) -> Response:
            def answer(caller: Caller) -> Response:
                if not caller.admin:
                    return _error(403, "forbidden", ADMIN_ONLY)
                try:
                    target = ErasureTarget(body.dealer_id, body.customer_id, body.service_record_id)
                except ErasureRequestError as err:
                    return _error(400, "bad_request", str(err))
                return JSONResponse(file_request()(target, caller).to_dict(), status_code=202)

            return await for_caller(request, answer)

        @app.get(
            "/erasure-requests/{request_id}",
            responses=ERASURE_STATUS_RESPONSES,
            operation_id="getErasureRequest",
            tags=["erasure"],
            summary="An erasure request's status",
        )
        async def erasure_status(request_id: str, request: Request) -> Response:
            def answer(caller: Caller) -> Response:
                if not caller.admin:
                    return _error(403, "forbidden", ADMIN_ONLY)
                found = request_status()(request_id)
                if found is None:
                    return _error(404, "not_found", f"no erasure request {request_id!r}")
                return JSONResponse(found.to_dict())

            return await for_caller(request, answer)

    @app.post(
        "/service-records",
        status_code=202,
        responses=SUBMIT_RESPONSES,
        operation_id="submitServiceRecords",
        tags=["submissions"],
        summary="Submit service records",
    )
    async def submit(request: Request) -> Response:
        caller = await run_in_threadpool(caller_of, request, authenticate())
        if caller is None:
            return _error(401, "unauthorized", UNAUTHORIZED)
        if not json_body(request.headers.get("content-type")):
            return _error(
                415,
                "unsupported_media_type",
                f"the body is sent as {request.headers.get('content-type')}; send JSON as application/json",
            )
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > MAX_SUBMISSION_BYTES:
            return _error(413, "payload_too_large", TOO_LARGE)
        body = bytearray()
        try:
            async for chunk in request.stream():  # a chunked body has no length: stop at the limit
                body += chunk
                if len(body) > MAX_SUBMISSION_BYTES:
                    return _error(413, "payload_too_large", TOO_LARGE)
        except ClientDisconnect:
            log.info("client disconnected before sending the whole body; nothing stored")
            return Response(status_code=400)  # nobody is left to read it
        try:
            # The use-case is synchronous (validation, then a disk write or an S3 PUT): on the
            # event loop it would stall every other request, /health included.
            receipt = await run_in_threadpool(submit_record(), bytes(body), caller)
        except SubmissionTooLarge as err:
            return _error(413, "payload_too_large", str(err))
        except MalformedSubmission as err:
            return _error(400, "malformed_json", str(err))
        except SubmissionForbidden as err:
            return _error(403, "forbidden", f"{err}. Nothing was stored", records=err.indices[:100])
        except SubmissionRejected as err:
            found = err.found
            listed = "every problem is listed" if len(found.listed) == found.problem_count else "the first are listed"
            return _error(
                422,
                "invalid_submission",
                f"the submission was rejected whole: {err}; {listed}. Fix them and send it again",
                problem_count=found.problem_count,
                problem_count_complete=found.counted_all,
                records_with_problems=found.records_with_problems,
                problems=[p.to_dict() for p in found.listed],
            )
        request.state.submission_id = receipt.submission_id  # read by the access line (access_log.SUBMISSION_ID)
        return JSONResponse(receipt.to_dict(), status_code=202)

    document(app)
    return AccessLog(app)


def app_of(container: Container) -> Any:
    """The app with every route, its use-cases built from ``container`` on first use."""
    return create_app(
        container.submit_record,
        container.authenticate,
        container.submission_status,
        container.vehicle_history,
        container.record_lookup,
        container.file_erasure_request,
        container.erasure_request_status,
    )
