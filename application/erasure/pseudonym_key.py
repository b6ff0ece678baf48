"""The port of the secret key customer tokens are made with (``domain.erasure.customer_token``)."""

from __future__ import annotations

from typing import Protocol


class PseudonymKey(Protocol):
    def key(self) -> bytes:
        """The key: the same for every process of a deployment, for as long as it lives (a
        new key would make every token noted so far unrecognisable)."""
        ...
