"""What moto needs to stand in for DynamoDB under concurrent transactions.

moto backs up a table by deep-copying it at the start of every TransactWriteItems, while
other threads' transactions change it ("dictionary changed size during iteration"). DynamoDB
itself takes concurrent transactions; the loader sends a few at once. Serialising moto's
transactions keeps its answers those of DynamoDB. Used by the sandbox and the tests.
"""

from __future__ import annotations

import functools
import json
import threading
from typing import Any

_lock = threading.Lock()
_KEPT: list[type] = []


def serialise_dynamodb_transactions() -> None:
    """Run moto's TransactWriteItems one at a time, in this process (idempotent)."""
    from moto.dynamodb.models import DynamoDBBackend

    original = DynamoDBBackend.transact_write_items
    if getattr(original, "serialised", False):
        return

    @functools.wraps(original)
    def one_at_a_time(self: Any, *args: Any, **kwargs: Any) -> Any:
        with _lock:
            return original(self, *args, **kwargs)

    one_at_a_time.serialised = True  # type: ignore[attr-defined]
    DynamoDBBackend.transact_write_items = one_at_a_time  # type: ignore[method-assign]


def secrets_in_cloudformation() -> None:
    """Teach moto's CloudFormation the stack's ``AWS::SecretsManager::Secret`` (moto has the
    service but no CloudFormation model of it): the secret is made with a generated string of
    ``GenerateSecretString.PasswordLength``, and its Ref is its ARN, as in AWS (idempotent)."""
    import secrets as random_secrets

    from moto.cloudformation import parsing
    from moto.core.common_models import CloudFormationModel
    from moto.secretsmanager.models import secretsmanager_backends

    if "AWS::SecretsManager::Secret" in parsing.get_model_map():
        return

    class GeneratedSecret(CloudFormationModel):
        def __init__(self, arn: str) -> None:
            self.arn = arn

        @staticmethod
        def cloudformation_type() -> str:
            return "AWS::SecretsManager::Secret"

        @staticmethod
        def cloudformation_name_type() -> str:
            return "Name"

        @property
        def physical_resource_id(self) -> str:
            return self.arn

        @classmethod
        def create_from_cloudformation_json(  # type: ignore[override]
            cls, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any
        ) -> GeneratedSecret:
            properties = cloudformation_json.get("Properties", {})
            length = int(properties.get("GenerateSecretString", {}).get("PasswordLength", 32))
            made = secretsmanager_backends[account_id][region_name].create_secret(
                name=properties.get("Name", resource_name),
                secret_string=random_secrets.token_hex(length)[:length],
                secret_binary=None,
                description=properties.get("Description"),
                tags=None,
                kms_key_id=None,
                client_request_token=None,
                replica_regions=[],
                force_overwrite=False,
            )
            return cls(json.loads(made)["ARN"])

    _KEPT.append(GeneratedSecret)  # moto finds models among the subclasses, weakly held
    for cached in (parsing.get_model_list, parsing.get_model_map, parsing.get_name_type_map):
        cached.cache_clear()
