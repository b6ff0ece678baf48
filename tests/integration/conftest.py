from __future__ import annotations

import pytest
from moto import mock_aws

from adapters.aws.session import AwsClients
from infra.moto_compat import serialise_dynamodb_transactions
from tests.integration.aws_stack import FAKE_CREDENTIALS, AwsStack, create_stack

serialise_dynamodb_transactions()  # moto's, in this process: in-process mocks and moto servers alike


@pytest.fixture
def aws_env(monkeypatch) -> None:
    """Fake credentials and no endpoint override: nothing can reach real AWS."""
    for name, value in FAKE_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def stack(aws_env) -> AwsStack:
    with mock_aws():
        yield create_stack()


@pytest.fixture
def clients(stack) -> AwsClients:
    return AwsClients()
