"""The pseudonym key in a Secrets Manager secret the stack generates (read once per process)."""

from __future__ import annotations

import threading

from adapters.aws.errors import translated
from adapters.aws.session import AwsClients


class SecretsManagerKey:
    def __init__(self, clients: AwsClients, secret_id: str) -> None:
        self._clients, self._secret_id = clients, secret_id
        self._key: bytes | None = None
        self._lock = threading.Lock()

    def key(self) -> bytes:
        with self._lock:
            if self._key is None:
                with translated(resource=f"secret {self._secret_id!r}", setting="PSEUDONYM_KEY_SECRET_ARN"):
                    answer = self._clients.client("secretsmanager").get_secret_value(SecretId=self._secret_id)
                self._key = str(answer["SecretString"]).encode()
            return self._key
