"""Dealer API keys in a DynamoDB table (key ``key_id``; hashes only), and their twins in
API Gateway, which checks the same ``x-api-key`` for throttling before Lambda runs."""

from __future__ import annotations

import contextlib
from dataclasses import asdict
from typing import Any

from adapters.aws.dynamodb_repository import deserialize, serialize
from adapters.aws.errors import translated
from adapters.aws.session import AwsClients
from application.access.api_keys import ApiKeyEntry


class DynamoApiKeyStore:
    def __init__(self, clients: AwsClients, table_name: str) -> None:
        self._clients, self.table_name = clients, table_name

    def _translated(self) -> contextlib.AbstractContextManager[None]:
        return translated(resource=f"table {self.table_name!r}", setting="API_KEYS_TABLE_NAME")

    def verify(self) -> None:
        with self._translated():
            self._clients.client("dynamodb").describe_table(TableName=self.table_name)

    def save(self, entry: ApiKeyEntry) -> None:
        item = serialize(asdict(entry))
        with self._translated():
            self._clients.client("dynamodb").put_item(TableName=self.table_name, Item=item)

    def get(self, key_id: str) -> ApiKeyEntry | None:
        with self._translated():
            answer = self._clients.client("dynamodb").get_item(
                TableName=self.table_name, Key={"key_id": {"S": key_id}}, ConsistentRead=True
            )
        return _entry(answer["Item"]) if "Item" in answer else None

    def entries(self) -> list[ApiKeyEntry]:
        found: list[ApiKeyEntry] = []
        with self._translated():
            for page in self._clients.client("dynamodb").get_paginator("scan").paginate(TableName=self.table_name):
                found.extend(_entry(item) for item in page["Items"])
        return sorted(found, key=lambda e: (e.created_at, e.key_id))


def _entry(item: dict[str, Any]) -> ApiKeyEntry:
    return ApiKeyEntry(**deserialize(item))


class ApiGatewayKeys:
    """Each dealer key as an API Gateway API key in the stack's usage plan (throttling and
    quota per dealer); named ``servicepipe-<key id>`` so that revoking finds it."""

    def __init__(self, clients: AwsClients, usage_plan_id: str) -> None:
        self._clients, self._usage_plan_id = clients, usage_plan_id

    def _translated(self) -> contextlib.AbstractContextManager[None]:
        return translated(resource=f"usage plan {self._usage_plan_id!r}", setting="API_USAGE_PLAN_ID")

    def register(self, key_id: str, key: str, name: str) -> None:
        apigateway = self._clients.client("apigateway")
        with self._translated():
            created = apigateway.create_api_key(
                name=f"servicepipe-{key_id}", description=name, enabled=True, value=key, tags={"servicepipe": name}
            )
            apigateway.create_usage_plan_key(usagePlanId=self._usage_plan_id, keyId=created["id"], keyType="API_KEY")

    def unregister(self, key_id: str) -> None:
        apigateway = self._clients.client("apigateway")
        with self._translated():
            for page in apigateway.get_paginator("get_api_keys").paginate(nameQuery=f"servicepipe-{key_id}"):
                for api_key in page["items"]:
                    if api_key.get("name") == f"servicepipe-{key_id}":
                        apigateway.delete_api_key(apiKey=api_key["id"])
