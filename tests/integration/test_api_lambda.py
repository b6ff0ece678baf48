"""The Lambda handler on API Gateway proxy events, storing into moto S3 in-process."""

from __future__ import annotations

import json

import boto3
import orjson
import pytest

from entrypoints.api import lambda_handler as api_lambda
from tests.factories import a_record
from tests.integration.lambda_events import LambdaContext, api_gateway_event


@pytest.fixture
def handler(stack, monkeypatch):
    for name, value in stack.environment().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(api_lambda, "_adapter", None)
    return lambda event: api_lambda.handler(event, LambdaContext())


def raw_keys(stack) -> list[str]:
    listing = boto3.client("s3").list_objects_v2(Bucket=stack.raw_bucket, Prefix="service-records/")
    return [o["Key"] for o in listing.get("Contents", [])]


def test_a_submission_is_accepted_and_stored_in_the_raw_bucket(stack, handler) -> None:
    body = orjson.dumps([a_record("SR-1"), a_record("SR-2")])
    response = handler(api_gateway_event(body, key=stack.admin_key))
    assert response["statusCode"] == 202
    receipt = json.loads(response["body"])
    assert receipt["record_count"] == 2 and raw_keys(stack) == [receipt["file_key"]]
    stored = boto3.client("s3").get_object(Bucket=stack.raw_bucket, Key=receipt["file_key"])
    assert stored["Body"].read() == body
    assert stored["Metadata"]["submission-id"] == receipt["submission_id"]


def test_base64_bodies_are_decoded(stack, handler) -> None:
    response = handler(api_gateway_event(orjson.dumps(a_record()), base64_body=True, key=stack.admin_key))
    assert response["statusCode"] == 202


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        (b"{oops", 400, "malformed_json"),
        (b"[]", 422, "invalid_submission"),
        (orjson.dumps([a_record(changes={"vehicle": None})]), 422, "invalid_submission"),
        (b"[" + b" " * (6 * 1024 * 1024 + 1) + b"]", 413, "payload_too_large"),
    ],
)
def test_bad_bodies_get_the_same_answers_as_the_local_server(stack, handler, body, status, error) -> None:
    response = handler(api_gateway_event(body, key=stack.admin_key))
    assert response["statusCode"] == status
    assert json.loads(response["body"])["error"] == error
    assert raw_keys(stack) == []


def test_health(handler) -> None:
    response = handler(api_gateway_event(b"", path="/health", method="GET"))
    assert response["statusCode"] == 200 and json.loads(response["body"]) == {"status": "ok"}


def test_importing_the_handler_creates_no_client(monkeypatch) -> None:
    import importlib

    import boto3.session

    def no_session(*args, **kwargs):
        raise AssertionError("an AWS session was created at import")

    monkeypatch.setattr(boto3.session, "Session", no_session)
    monkeypatch.setattr(boto3, "client", no_session)
    importlib.reload(api_lambda)  # fails if importing builds the container's clients


def test_a_request_without_a_mapped_key_is_refused_and_nothing_is_stored(stack, handler) -> None:
    from tests.integration.aws_stack import issue_key

    body = orjson.dumps([a_record("SR-1")])
    for key in ("", "sp_0123456789abcdef_not-a-key-of-this-table-at-all"):
        response = handler(api_gateway_event(body, key=key))
        assert response["statusCode"] == 401 and json.loads(response["body"])["error"] == "unauthorized"
    dealer_key = issue_key(boto3.client("dynamodb"), stack.api_keys_table, dealer_id="DLR-SBY-002")
    response = handler(api_gateway_event(body, key=dealer_key))  # a_record is DLR-JKT-001's
    assert response["statusCode"] == 403 and json.loads(response["body"])["records"] == [0]
    assert raw_keys(stack) == []


def test_a_dealer_reads_its_submission_through_the_handler(stack, handler) -> None:
    from tests.integration.aws_stack import issue_key

    key = issue_key(boto3.client("dynamodb"), stack.api_keys_table, dealer_id="DLR-JKT-001")
    receipt = json.loads(handler(api_gateway_event(orjson.dumps([a_record("SR-1")]), key=key))["body"])
    path = f"/submissions/{receipt['submission_id']}"
    answer = handler(api_gateway_event(b"", path=path, method="GET", key=key))
    assert answer["statusCode"] == 200 and json.loads(answer["body"])["status"] == "received"
    other = issue_key(boto3.client("dynamodb"), stack.api_keys_table, dealer_id="DLR-SBY-002")
    assert handler(api_gateway_event(b"", path=path, method="GET", key=other))["statusCode"] == 404
