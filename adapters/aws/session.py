"""One boto3 session per process, and its clients, created on first use (never at import).

boto3 itself honours ``AWS_ENDPOINT_URL`` and the per-service ``AWS_ENDPOINT_URL_S3``,
``AWS_ENDPOINT_URL_SQS``, ``AWS_ENDPOINT_URL_DYNAMODB``, so the same code reaches AWS or a
moto server. ``AWS_REGION`` (set by Lambda) is honoured as well as ``AWS_DEFAULT_REGION``.
"""

from __future__ import annotations

import os
import threading
from typing import Any

import boto3
from botocore.config import Config

# botocore's standard retry mode already retries throttling with backoff; we add our own
# retries only where AWS answers "partly done" (a cancelled transaction's items).
# The pool holds a connection for each call in flight (the loader's 8 transactions, a worker's
# concurrent output commits, up to 10, with room to spare); botocore's default of 10 would make
# some of them wait for a connection.
MAX_POOL_CONNECTIONS = 32
_CONFIG = Config(
    retries={"max_attempts": 5, "mode": "standard"},
    connect_timeout=5,
    read_timeout=60,
    max_pool_connections=MAX_POOL_CONNECTIONS,
)


class AwsClients:
    def __init__(self, region: str | None = None) -> None:
        self._region = region
        self._session: boto3.session.Session | None = None
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()

    def client(self, service: str) -> Any:
        """The process's client for ``service`` (``s3``, ``sqs``, ``dynamodb``)."""
        with self._lock:
            if service not in self._clients:
                if self._session is None:
                    region = self._region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
                    self._session = boto3.session.Session(region_name=region)
                self._clients[service] = self._session.client(service, config=_CONFIG)  # type: ignore[call-overload]
            return self._clients[service]
