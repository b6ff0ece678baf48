"""infra/smoke_test.py on moto: the API answered by the Lambda handler in-process (as API Gateway
would hand it the request), the worker and the loader run when the smoke test waits for them."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import boto3
import pytest

from entrypoints.api import lambda_handler as api_lambda
from infra.smoke_test import SMOKE_DEALER, Deployed, SmokeFailed, SmokeTest
from tests.integration.lambda_events import LambdaContext, api_gateway_event

API_URL = "https://abc123.execute-api.ap-southeast-3.amazonaws.com/v1"


@pytest.fixture
def deployed(stack, monkeypatch):
    for name, value in stack.environment().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(api_lambda, "_adapter", None)
    usage_plan = boto3.client("apigateway").create_usage_plan(name="dealers")["id"]
    return Deployed("ap-southeast-3", API_URL, stack.api_keys_table, usage_plan, "servicepipe-test-loader")


class Gateway:
    """Requests to the stack's URL, answered by the Lambda handler; the first POST gets the 403
    API Gateway gives a key it has not learnt yet. The worker drains the queue before a status
    is read (a worker task would have by then)."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, int]] = []
        self.posts = 0

    def __call__(self, method: str, url: str, headers: dict[str, str], body: bytes | None) -> tuple[int, bytes]:
        parts = urlsplit(url)
        assert url.startswith(API_URL) and headers["x-api-key"]
        path = parts.path.removeprefix("/v1")
        if method == "POST":
            self.posts += 1
            if self.posts == 1:
                self.requests.append((method, path, 403))
                return 403, b'{"message":"Forbidden"}'
        if path.startswith("/submissions/"):
            from entrypoints.worker.fargate import main as worker

            assert worker(["--drain"]) == 0
        event = api_gateway_event(body or b"", path=path, method=method, key=headers["x-api-key"])
        event["queryStringParameters"] = dict(parse_qsl(parts.query)) or None
        answer = api_lambda.handler(event, LambdaContext())
        self.requests.append((method, path, answer["statusCode"]))
        return answer["statusCode"], answer["body"].encode()


def loader(stack):
    def run() -> None:
        from entrypoints.loader.glue_load_to_dynamo import main

        assert (
            main(["glue", "--DYNAMODB_TABLE_NAME", stack.table_name, "--SOURCE_BUCKET_NAME", stack.cleaned_bucket]) == 0
        )

    return run


def key_entries(stack) -> list[dict]:
    return boto3.resource("dynamodb").Table(stack.api_keys_table).scan()["Items"]


def test_a_smoke_test_submits_waits_loads_reads_back_and_revokes_its_key(stack, deployed) -> None:
    said: list[str] = []
    gateway = Gateway()
    SmokeTest(deployed, gateway, loader(stack), timeout=60, sleep=lambda s: None, say=said.append)()
    assert [line.split(" (")[0] for line in said] == [
        "ok   issue an admin key",
        "ok   submit one record",
        "ok   wait for the worker",
        "ok   run the loader",
        "ok   read the record back",
        "ok   revoke the key",
    ]
    assert [(m, p.split("/")[1], s) for m, p, s in gateway.requests] == [
        ("POST", "service-records", 403),
        ("POST", "service-records", 202),
        ("GET", "submissions", 200),
        ("GET", "service-records", 200),
    ]
    (smoke,) = [item for item in key_entries(stack) if item.get("admin") and item.get("revoked_at")]
    assert smoke["revoked_at"]
    loaded = boto3.resource("dynamodb").Table(stack.table_name).scan()["Items"]
    assert [item["dealer_id"] for item in loaded] == [SMOKE_DEALER]
    assert boto3.client("apigateway").get_api_keys()["items"] == []  # unregistered again


def test_a_failed_step_is_named_and_the_key_is_revoked_all_the_same(stack, deployed) -> None:
    def broken_loader() -> None:
        raise RuntimeError("Glue is down")

    said: list[str] = []
    with pytest.raises(SmokeFailed, match=r"^run the loader: RuntimeError: Glue is down$"):
        SmokeTest(deployed, Gateway(), broken_loader, timeout=60, sleep=lambda s: None, say=said.append)()
    assert said[-1].startswith("ok   revoke the key")
    admins = [item for item in key_entries(stack) if item.get("admin")]
    assert len(admins) == 2 and [bool(item.get("revoked_at")) for item in admins].count(True) == 1  # the smoke key


def test_a_record_the_worker_rejects_fails_the_wait_with_the_report(stack, deployed, monkeypatch) -> None:
    import infra.smoke_test as smoke

    real = smoke._smoke_record
    monkeypatch.setattr(smoke, "_smoke_record", lambda: {**real(), "vehicle": {**real()["vehicle"], "vin": "SHORT"}})
    with pytest.raises(SmokeFailed, match=r"^wait for the worker: the record was not accepted: "):
        SmokeTest(deployed, Gateway(), loader(stack), timeout=60, sleep=lambda s: None, say=lambda s: None)()


def test_the_command_line_says_how_to_call_it(capsys) -> None:
    from infra.smoke_test import main

    assert main([]) == 2
    assert capsys.readouterr().err == "usage: python -m infra.smoke_test REGION ENVIRONMENT\n"
