"""One access line per request, as JSON logs: method, path, status, milliseconds and, for
an accepted submission, its id. Never the body or the headers (they carry the API key)."""

from __future__ import annotations

import logging
import time
from typing import Any

log = logging.getLogger("servicepipe.access")

SUBMISSION_ID = "submission_id"  # set in the ASGI scope's state by the route that stores one


class AccessLog:
    """ASGI middleware: wraps an app and logs each HTTP request once it has answered."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = {"code": 500}

        async def send_and_note(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            extra = {
                "method": scope["method"],
                "path": scope["path"],
                "status": status["code"],
                "ms": round((time.perf_counter() - started) * 1000, 1),
            }
            submission_id = (scope.get("state") or {}).get(SUBMISSION_ID)
            if submission_id:
                extra[SUBMISSION_ID] = submission_id
            log.info(f"{scope['method']} {scope['path']} {status['code']}", extra=extra)
