from __future__ import annotations

import pytest
from moto import mock_aws

from adapters.aws.session import AwsClients
from infra.moto_compat import secrets_in_cloudformation, serialise_dynamodb_transactions
from tests.integration.aws_stack import FAKE_CREDENTIALS, AwsStack, create_stack
from tests.integration.iceberg_catalogs import fresh_glue_stack, glue_tables, local_tables

serialise_dynamodb_transactions()  # moto's, in this process: in-process mocks and moto servers alike
secrets_in_cloudformation()  # the stack's pseudonym key, deployed to moto as to AWS


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


@pytest.fixture(scope="module")
def moto_server():
    """A moto server on loopback, for subprocesses (workers, the loader) to reach over HTTP."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture(params=["local", "moto"])
def served(request, tmp_path, monkeypatch):
    """The pipeline's stores, queue and table (tests/integration/backends.py), reachable from
    subprocesses too: on local adapters in ``tmp_path / "d"``, or on the moto server; the queue's
    visibility timeout is 2 s."""
    from tests.integration.backends import backend

    endpoint = None
    if request.param == "moto":
        request.getfixturevalue("aws_env")
        endpoint = request.getfixturevalue("moto_server")
        monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    with backend(request.param, tmp_path / "d", visibility_timeout=2, endpoint=endpoint) as made:
        yield made


@pytest.fixture
def glue_stack(moto_server, aws_env, monkeypatch) -> AwsStack:
    """A fresh stack on the moto server, reached by every client in this test."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server)
    return fresh_glue_stack(moto_server)


@pytest.fixture(params=["sqlite", "glue"])
def tables(request, tmp_path):
    """The analytics tables on Iceberg, in a SQLite catalog and in the Glue Data Catalog."""
    if request.param == "sqlite":
        return local_tables(tmp_path)
    return glue_tables(request.getfixturevalue("glue_stack"))
