"""The key stores on their real backends: SQLite locally, DynamoDB and API Gateway on moto."""

from __future__ import annotations

import boto3
import pytest

from adapters.aws.dynamodb_api_keys import ApiGatewayKeys, DynamoApiKeyStore
from adapters.local.sqlite_api_keys import SqliteApiKeyStore
from application.access.api_keys import Authenticate, IssueApiKey, RevokeApiKey
from application.errors import ConfigurationError


def round_trip(store, clock) -> None:
    dealer, key = IssueApiKey(store, clock)("DLR-JKT-001")
    admin, _ = IssueApiKey(store, clock)(None, admin=True)
    assert store.get(dealer.key_id) == dealer and store.get(admin.key_id) == admin
    listed = [e.key_id for e in store.entries()]
    assert {dealer.key_id, admin.key_id} <= set(listed) and len(listed) <= 3  # (the moto stack issues one itself)
    assert Authenticate(store)(key).dealer_id == "DLR-JKT-001"
    assert RevokeApiKey(store, clock)(dealer.key_id)
    assert store.get(dealer.key_id).revoked_at is not None and Authenticate(store)(key) is None


def test_sqlite_store_round_trip(tmp_path, clock) -> None:
    store = SqliteApiKeyStore(tmp_path / "keys" / "api_keys.sqlite")
    assert store.entries() == [] and not (tmp_path / "keys").exists()  # reading creates nothing
    round_trip(store, clock)


def test_dynamodb_store_round_trip(stack, clients, clock) -> None:
    store = DynamoApiKeyStore(clients, stack.api_keys_table)
    store.verify()
    round_trip(store, clock)
    with pytest.raises(ConfigurationError, match="API_KEYS_TABLE_NAME"):
        DynamoApiKeyStore(clients, "no-such-table").verify()


def test_api_gateway_gets_the_same_key_in_the_usage_plan_and_loses_it_on_revoke(stack, clients, clock) -> None:
    apigateway = boto3.client("apigateway")
    plan = apigateway.create_usage_plan(name="servicepipe-test")["id"]
    store, gateway = DynamoApiKeyStore(clients, stack.api_keys_table), ApiGatewayKeys(clients, plan)
    entry, key = IssueApiKey(store, clock, gateway)("DLR-JKT-001")
    listed = apigateway.get_api_keys(includeValues=True)["items"]
    (registered,) = [k for k in listed if k["name"] == f"servicepipe-{entry.key_id}"]
    assert registered["value"] == key and registered["enabled"]
    assert [k["id"] for k in apigateway.get_usage_plan_keys(usagePlanId=plan)["items"]] == [registered["id"]]
    RevokeApiKey(store, clock, gateway)(entry.key_id)
    assert not [k for k in apigateway.get_api_keys()["items"] if k["name"].endswith(entry.key_id)]
