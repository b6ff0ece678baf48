"""Settings from the environment (and CLI flags), the only place entrypoints read them."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from application.raw_reader import DEFAULT_CHUNK_BYTES

DEFAULT_DATA_DIR = ".servicepipe-data"


@dataclass(frozen=True)
class Settings:
    backend: str = "local"
    data_dir: str = DEFAULT_DATA_DIR
    queue_visibility_timeout: int = 300
    queue_max_receives: int = 5
    raw_bucket: str = ""
    cleaned_bucket: str = ""
    error_bucket: str = ""
    queue_url: str = ""
    table_name: str = "service_records"
    api_key: str = ""
    batch_bytes: int = DEFAULT_CHUNK_BYTES

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: Any) -> Settings:
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {
            "backend": env.get("SERVICEPIPE_BACKEND", "local"),
            "data_dir": env.get("SERVICEPIPE_DATA_DIR", DEFAULT_DATA_DIR),
            "queue_visibility_timeout": int(env.get("SERVICEPIPE_QUEUE_VISIBILITY_TIMEOUT", "300")),
            "raw_bucket": env.get("RAW_BUCKET_NAME", ""),
            "cleaned_bucket": env.get("CLEANED_BUCKET_NAME", ""),
            "error_bucket": env.get("ERROR_BUCKET_NAME", ""),
            "queue_url": env.get("SQS_QUEUE_URL", ""),
            "table_name": env.get("DYNAMODB_TABLE_NAME", "service_records"),
            "api_key": env.get("SERVICEPIPE_API_KEY", ""),
            "batch_bytes": int(env.get("SERVICEPIPE_BATCH_BYTES", DEFAULT_CHUNK_BYTES)),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        if values["backend"] not in ("local", "aws"):
            raise ValueError(f"unknown backend {values['backend']!r}: use 'local' or 'aws'")
        return cls(**values)

    def to_config(self) -> dict[str, Any]:
        """The container's configuration dictionary."""
        data = Path(self.data_dir)
        return {
            **self.__dict__,
            "raw_dir": str(data / "raw"),
            "cleaned_dir": str(data / "cleaned"),
            "error_dir": str(data / "error"),
            "queue_path": str(data / "queue.sqlite"),
            "database_path": str(data / "service_records.sqlite"),
        }
