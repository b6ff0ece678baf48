"""Dealer API keys: issued once, stored only as a hash, checked in constant time.

A key reads ``sp_<key id>_<secret>``. The key id finds the stored entry; the secret's SHA-256
is compared with ``hmac.compare_digest``. The secret is 32 random bytes, so a plain hash is
enough (a password hash's slowness protects guessable secrets, not random ones).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import asdict, dataclass, replace
from typing import Protocol

from application.ports import Clock
from domain.dealer_access import Caller

_KEY = re.compile(r"^sp_([0-9a-f]{16})_([A-Za-z0-9_-]{20,100})$")
DEALER_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


@dataclass(frozen=True)
class ApiKeyEntry:
    key_id: str
    dealer_id: str | None  # None for an admin key
    admin: bool
    secret_sha256: str
    created_at: str
    revoked_at: str | None = None

    def public(self) -> dict[str, object]:
        """What ``dealers list`` shows: everything but the hash."""
        shown = asdict(self)
        del shown["secret_sha256"]
        return shown


class ApiKeyStore(Protocol):
    """Where key entries live (SQLite locally, DynamoDB on AWS)."""

    def verify(self) -> None:
        """Raise ConfigurationError if the store cannot be used."""

    def save(self, entry: ApiKeyEntry) -> None: ...

    def get(self, key_id: str) -> ApiKeyEntry | None: ...

    def entries(self) -> list[ApiKeyEntry]: ...


class KeyGateway(Protocol):
    """What sits in front of the API and must know the key too (API Gateway on AWS)."""

    def register(self, key_id: str, key: str, name: str) -> None: ...

    def unregister(self, key_id: str) -> None: ...


class NoGateway:
    """Locally nothing sits in front of the API."""

    def register(self, key_id: str, key: str, name: str) -> None:
        return None

    def unregister(self, key_id: str) -> None:
        return None


class UnknownDealerId(ValueError):
    pass


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class IssueApiKey:
    """A new key for one dealership (or an admin key); returns the key, shown only here."""

    def __init__(self, store: ApiKeyStore, clock: Clock, gateway: KeyGateway | None = None) -> None:
        self._store, self._clock, self._gateway = store, clock, gateway or NoGateway()

    def __call__(self, dealer_id: str | None, admin: bool = False) -> tuple[ApiKeyEntry, str]:
        if not admin and (dealer_id is None or not DEALER_ID.match(dealer_id)):
            raise UnknownDealerId(
                f"a dealer id is letters, digits, '.', '_' or '-', up to 64 characters; got {dealer_id!r}"
            )
        key_id, secret = secrets.token_hex(8), secrets.token_urlsafe(32)
        entry = ApiKeyEntry(
            key_id=key_id,
            dealer_id=None if admin else dealer_id,
            admin=admin,
            secret_sha256=_digest(secret),
            created_at=self._clock.now().isoformat(),
        )
        key = f"sp_{key_id}_{secret}"
        self._store.save(entry)
        self._gateway.register(key_id, key, "admin" if admin else f"dealer-{dealer_id}")
        return entry, key


class RevokeApiKey:
    """Revoke a key by its id; True if it was live."""

    def __init__(self, store: ApiKeyStore, clock: Clock, gateway: KeyGateway | None = None) -> None:
        self._store, self._clock, self._gateway = store, clock, gateway or NoGateway()

    def __call__(self, key_id: str) -> bool:
        entry = self._store.get(key_id)
        if entry is None or entry.revoked_at is not None:
            return False
        self._gateway.unregister(key_id)
        self._store.save(replace(entry, revoked_at=self._clock.now().isoformat()))
        return True


class Authenticate:
    """The caller behind an ``x-api-key`` value, or None."""

    def __init__(self, store: ApiKeyStore) -> None:
        self._store = store

    def __call__(self, key: str) -> Caller | None:
        match = _KEY.match(key.strip())
        if match is None:
            return None
        key_id, secret = match.groups()
        entry = self._store.get(key_id)
        if entry is None or entry.revoked_at is not None:
            return None
        if not hmac.compare_digest(_digest(secret), entry.secret_sha256):
            return None
        return Caller(dealer_id=entry.dealer_id, admin=entry.admin, key_id=entry.key_id)
