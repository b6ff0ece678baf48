"""The HTTP API (FastAPI): the same app runs under ``servicepipe serve`` and in Lambda."""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from application.submit_record import (
    MAX_SUBMISSION_BYTES,
    MalformedSubmission,
    SubmissionRejected,
    SubmissionTooLarge,
    SubmitRecord,
)

log = logging.getLogger(__name__)


def _error(status: int, code: str, message: str, **extra: object) -> JSONResponse:
    return JSONResponse({"error": code, "message": message, **extra}, status_code=status)


def caller_identity(request: Request, api_key: str) -> str | None:
    """Who is calling: the one place the caller is resolved. None means refused.

    Behind API Gateway the key was already checked, and its id arrives in the request
    context. Locally, a configured key must be sent as ``x-api-key``.
    """
    event = request.scope.get("aws.event") or {}
    key_id = ((event.get("requestContext") or {}).get("identity") or {}).get("apiKeyId")
    if key_id:
        return str(key_id)
    if not api_key:
        return "anonymous"
    sent = request.headers.get("x-api-key", "")
    return "api-key" if hmac.compare_digest(sent.encode(), api_key.encode()) else None


def create_app(submit_record: Callable[[], SubmitRecord], api_key: str = "") -> FastAPI:
    """The app; ``submit_record`` builds the use-case on first use (no AWS client at import)."""
    app = FastAPI(title="servicepipe API", version="1.0")

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/service-records", status_code=202)
    async def submit(request: Request) -> JSONResponse:
        if caller_identity(request, api_key) is None:
            return _error(403, "forbidden", "missing or wrong x-api-key header")
        too_large = _error(
            413,
            "payload_too_large",
            f"the body is larger than {MAX_SUBMISSION_BYTES:,} bytes; split it into smaller batches",
        )
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > MAX_SUBMISSION_BYTES:
            return too_large
        body = bytearray()
        async for chunk in request.stream():  # a chunked body has no length: stop at the limit
            body += chunk
            if len(body) > MAX_SUBMISSION_BYTES:
                return too_large
        try:
            receipt = submit_record()(bytes(body))
        except SubmissionTooLarge as err:
            return _error(413, "payload_too_large", str(err))
        except MalformedSubmission as err:
            return _error(400, "malformed_json", str(err))
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
        return JSONResponse(receipt.to_dict(), status_code=202)

    return app
