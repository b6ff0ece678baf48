"""The API on AWS Lambda, behind API Gateway (REST API, proxy integration, payload 1.0).

``handler`` translates the event with Mangum and runs the same FastAPI app as
``servicepipe serve``. The app and its AWS clients are built on the first request, not at
import. Environment: ``RAW_BUCKET_NAME``, ``CLEANED_BUCKET_NAME`` and ``ERROR_BUCKET_NAME``
(read for submission feedback), ``API_KEYS_TABLE_NAME``, ``DYNAMODB_TABLE_NAME`` (histories).
"""

from __future__ import annotations

from typing import Any

from mangum import Mangum

from entrypoints.api.http_app import app_of
from entrypoints.container import build_container
from entrypoints.logging_setup import configure_logging
from entrypoints.memory import freeze_startup_objects
from entrypoints.settings import Settings

_adapter: Mangum | None = None


def _build() -> Mangum:
    settings = Settings.from_env(default_backend="aws", default_log_level="INFO")
    configure_logging(settings.log_level)
    container = build_container(settings)
    # API Gateway checks the API key (usage plan, throttling) before the request reaches
    # Lambda; the app maps the same key to its dealership (API_KEYS_TABLE_NAME).
    adapter = Mangum(app_of(container), lifespan="off")
    freeze_startup_objects()
    return adapter


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    global _adapter
    if _adapter is None:
        _adapter = _build()
    return _adapter(event, context)
