"""Hostile submission bodies get a 4xx with a clear message, never a crash, and nothing is
stored: deep nesting, a huge array of tiny records, invalid UTF-8, a number past a double."""

from __future__ import annotations

import orjson
import pytest
from fastapi.testclient import TestClient

from application.intake.submit_record import SubmitRecord
from tests.api_keys import keyed_app
from tests.factories import a_record


@pytest.fixture
def client(raw, clock) -> TestClient:
    app, key, _ = keyed_app(lambda: SubmitRecord(raw, clock))
    return TestClient(app, headers={"x-api-key": key})


def deeply_nested(depth: int) -> bytes:
    record = orjson.dumps(a_record())[:-1] + b', "extra": ' + b'{"a": ' * depth + b"1" + b"}" * depth + b"}"
    return b"[" + record + b"]"


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        (deeply_nested(10_000), 400, "not valid JSON"),  # past the parser's depth limit
        (b"[" + b",".join([b"{}"] * 100_000) + b"]", 413, "100,000 records"),
        (b'[{"service_record_id": "\xff\xfe"}]', 400, "not valid JSON"),
        (orjson.dumps([a_record()]).replace(b"650000", b"1e309"), 400, "infinity"),
    ],
    ids=["deep-nesting", "100k-tiny-records", "invalid-utf8", "1e309"],
)
def test_a_hostile_body_is_a_clear_4xx_and_nothing_is_stored(client, raw, body, status, words) -> None:
    answer = client.post("/service-records", content=body)
    assert answer.status_code == status, answer.text
    assert words in answer.text and answer.json()["message"]
    assert raw.objects == {}
    assert client.get("/health").status_code == 200  # the process is still there
