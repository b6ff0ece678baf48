"""Settings from the environment and the command line.

The only place the CLI, the Lambda handler and the Fargate worker read servicepipe's settings
from the environment. (boto3 reads its own ``AWS_*`` variables, and ``adapters/aws/session.py``
the ``AWS_REGION`` that Lambda sets; the Glue loader takes job arguments instead, and reads only
``SERVICEPIPE_LOG_LEVEL``: it runs on Python 3.9 without our dependencies.) A setting that
cannot be used is a ``SettingsError`` whose message names the variable and what it should hold.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from application.processing.batching import DEFAULT_CHUNK_BYTES

DEFAULT_DATA_DIR = ".servicepipe-data"
BACKENDS = ("local", "aws")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")

# The AWS variables each kind of work needs, in the order they are listed when missing.
RAW, CLEANED, ERRORS, QUEUE = "RAW_BUCKET_NAME", "CLEANED_BUCKET_NAME", "ERROR_BUCKET_NAME", "SQS_QUEUE_URL"
KEYS, USAGE_PLAN = "API_KEYS_TABLE_NAME", "API_USAGE_PLAN_ID"
ANALYTICS = "ANALYTICS_DATABASE_NAME"
INDEX, PSEUDONYM_KEY = "RECORD_INDEX_TABLE_NAME", "PSEUDONYM_KEY_SECRET_ARN"
AWS_NEEDS = {
    "submit": (RAW,),
    "upload": (RAW,),
    "serve": (RAW, CLEANED, ERRORS, KEYS),
    "dealers": (KEYS, USAGE_PLAN),
    "history": (),
    "insights": (CLEANED, ANALYTICS),
    "worker": (RAW, CLEANED, ERRORS, QUEUE, INDEX, PSEUDONYM_KEY),
    "load": (CLEANED,),
    "status": (RAW, CLEANED, QUEUE),
    "run": (RAW, CLEANED, ERRORS, QUEUE, INDEX, PSEUDONYM_KEY),
    "dlq": (QUEUE,),
    "replay": (RAW, QUEUE),
    "reconcile": (RAW, CLEANED, ERRORS),
    "publish": (CLEANED, ANALYTICS),
    "forget": (RAW, CLEANED, ERRORS, ANALYTICS, INDEX, PSEUDONYM_KEY),
}


class SettingsError(ValueError):
    """A setting that cannot be used; the message says which and what to do."""


def log_level(value: str, variable: str = "--log-level") -> str:
    """A log level name, upper-cased; raises SettingsError listing the valid ones."""
    level = value.strip().upper()
    if level not in LOG_LEVELS:
        raise SettingsError(f"{variable} must be one of {', '.join(LOG_LEVELS)}, got {value!r}")
    return level


def _whole_number(env: Mapping[str, str], variable: str, default: int, minimum: int, unit: str) -> int:
    text = env.get(variable)
    if text is None or text.strip() == "":
        return default
    try:
        value = int(text)
    except ValueError:
        raise SettingsError(f"{variable} must be a whole number of {unit}, got {text!r}") from None
    if value < minimum:
        raise SettingsError(f"{variable} must be at least {minimum:,} {unit}, got {value:,}")
    return value


# Small files wait on the object store more than they compute: eight in hand keep a worker
# busy (a big file still runs alone; entrypoints/worker/file_gate.py).
DEFAULT_FILES_IN_FLIGHT = 8


@dataclass(frozen=True)
class Settings:
    backend: str = "local"
    data_dir: str = DEFAULT_DATA_DIR
    log_level: str = "WARNING"
    queue_visibility_timeout: int = 300
    queue_max_receives: int = 5
    raw_bucket: str = ""
    cleaned_bucket: str = ""
    error_bucket: str = ""
    queue_url: str = ""
    table_name: str = "service_records"
    api_keys_table: str = ""  # dealers' API keys on AWS (hashes), API_KEYS_TABLE_NAME
    usage_plan_id: str = ""  # the API Gateway usage plan dealer keys join, API_USAGE_PLAN_ID
    analytics_database: str = ""  # the stack's Glue database of the analytics tables, ANALYTICS_DATABASE_NAME
    record_index_table: str = ""  # who is in which raw file, for erasures: RECORD_INDEX_TABLE_NAME
    pseudonym_key_secret: str = ""  # the secret customer tokens are keyed with: PSEUDONYM_KEY_SECRET_ARN
    batch_bytes: int = DEFAULT_CHUNK_BYTES
    environment_name: str = "local"  # the stack's name: the metrics' environment dimension
    files_in_flight: int = DEFAULT_FILES_IN_FLIGHT  # raw files one worker process holds at once

    @classmethod
    def from_env(
        cls,
        environ: Mapping[str, str] | None = None,
        default_backend: str = "local",
        default_log_level: str = "WARNING",
        **overrides: Any,
    ) -> Settings:
        """Settings from ``environ`` (default: the process's), then ``overrides`` not None."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {
            "backend": env.get("SERVICEPIPE_BACKEND") or default_backend,
            "data_dir": env.get("SERVICEPIPE_DATA_DIR") or DEFAULT_DATA_DIR,
            "log_level": env.get("SERVICEPIPE_LOG_LEVEL") or default_log_level,
            "queue_visibility_timeout": _whole_number(
                env, "SERVICEPIPE_QUEUE_VISIBILITY_TIMEOUT", 300, minimum=1, unit="seconds"
            ),
            "raw_bucket": env.get(RAW, ""),
            "cleaned_bucket": env.get(CLEANED, ""),
            "error_bucket": env.get(ERRORS, ""),
            "queue_url": env.get(QUEUE, ""),
            "table_name": env.get("DYNAMODB_TABLE_NAME") or "service_records",
            "api_keys_table": env.get(KEYS, ""),
            "usage_plan_id": env.get(USAGE_PLAN, ""),
            "analytics_database": env.get(ANALYTICS, ""),
            "record_index_table": env.get(INDEX, ""),
            "pseudonym_key_secret": env.get(PSEUDONYM_KEY, ""),
            "environment_name": env.get("SERVICEPIPE_ENVIRONMENT") or "local",
            "batch_bytes": _whole_number(env, "SERVICEPIPE_BATCH_BYTES", DEFAULT_CHUNK_BYTES, 64 * 1024, "bytes"),
            "files_in_flight": _whole_number(
                env, "SERVICEPIPE_FILES_IN_FLIGHT", DEFAULT_FILES_IN_FLIGHT, minimum=1, unit="files"
            ),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        if values["backend"] not in BACKENDS:
            raise SettingsError(
                f"unknown backend {values['backend']!r} (SERVICEPIPE_BACKEND or --backend): use local or aws"
            )
        values["log_level"] = log_level(values["log_level"], "SERVICEPIPE_LOG_LEVEL or --log-level")
        return cls(**values)

    def missing_aws_variables(self, work: str) -> list[str]:
        """The AWS variables ``work`` (a command name) needs that are not set."""
        if self.backend != "aws":
            return []
        present = {
            RAW: self.raw_bucket,
            CLEANED: self.cleaned_bucket,
            ERRORS: self.error_bucket,
            QUEUE: self.queue_url,
            KEYS: self.api_keys_table,
            USAGE_PLAN: self.usage_plan_id,
            ANALYTICS: self.analytics_database,
            INDEX: self.record_index_table,
            PSEUDONYM_KEY: self.pseudonym_key_secret,
        }
        return [name for name in AWS_NEEDS.get(work, ()) if not present[name]]

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
            "api_keys_path": str(data / "api_keys.sqlite"),
            "analytics_catalog_path": str(data / "analytics_catalog.sqlite"),
            "analytics_warehouse_dir": str(data / "cleaned" / "iceberg"),
            "record_index_path": str(data / "record_index.sqlite"),
            "pseudonym_key_path": str(data / "pseudonym.key"),
        }
