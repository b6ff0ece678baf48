"""Dealer API keys: issued once, stored as hashes, mapped to their dealer, revocable."""

from __future__ import annotations

import pytest

from adapters.local.in_memory import InMemoryApiKeyStore
from application.access.api_keys import Authenticate, IssueApiKey, RevokeApiKey, UnknownDealerId
from domain.dealer_access import Caller


class RecordingGateway:
    def __init__(self) -> None:
        self.registered: dict[str, str] = {}

    def register(self, key_id: str, key: str, name: str) -> None:
        self.registered[key_id] = key

    def unregister(self, key_id: str) -> None:
        del self.registered[key_id]


def test_a_key_maps_to_its_dealer_and_only_its_hash_is_stored(clock) -> None:
    store, gateway = InMemoryApiKeyStore(), RecordingGateway()
    entry, key = IssueApiKey(store, clock, gateway)("DLR-JKT-001")
    assert key.startswith(f"sp_{entry.key_id}_") and len(key) > 50
    secret = key.split("_", 2)[2]
    assert secret not in repr(store.entries()) and secret not in str(entry.public())
    assert Authenticate(store)(key) == Caller(dealer_id="DLR-JKT-001", admin=False, key_id=entry.key_id)
    assert gateway.registered == {entry.key_id: key}  # API Gateway gets the same key


def test_an_admin_key_acts_for_every_dealer(clock) -> None:
    store = InMemoryApiKeyStore()
    _, key = IssueApiKey(store, clock)(None, admin=True)
    caller = Authenticate(store)(key)
    assert caller is not None and caller.admin and caller.may_act_for("ANY-DEALER")


@pytest.mark.parametrize("tamper", ["", "sp_", "not a key", "x" * 500, "{secret_changed}", "{other_id}"])
def test_anything_but_a_live_key_is_refused(clock, tamper) -> None:
    store = InMemoryApiKeyStore()
    entry, key = IssueApiKey(store, clock)("DLR-JKT-001")
    sent = tamper.format(
        secret_changed=key[:-2] + ("AA" if not key.endswith("AA") else "BB"),
        other_id=key.replace(entry.key_id, "0" * 16),
    )
    assert Authenticate(store)(sent) is None


def test_a_revoked_key_is_refused_and_leaves_the_gateway(clock) -> None:
    store, gateway = InMemoryApiKeyStore(), RecordingGateway()
    entry, key = IssueApiKey(store, clock, gateway)("DLR-JKT-001")
    assert RevokeApiKey(store, clock, gateway)(entry.key_id) is True
    assert Authenticate(store)(key) is None and gateway.registered == {}
    assert RevokeApiKey(store, clock, gateway)(entry.key_id) is False  # once
    assert RevokeApiKey(store, clock, gateway)("no-such-key") is False


@pytest.mark.parametrize("dealer_id", [None, "", "a/b", "../x", "x" * 65, "D 1"])
def test_a_dealer_id_that_could_not_be_a_dealer_is_refused(clock, dealer_id) -> None:
    store = InMemoryApiKeyStore()
    with pytest.raises(UnknownDealerId):
        IssueApiKey(store, clock)(dealer_id)
    assert store.entries() == []
