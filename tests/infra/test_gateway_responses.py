"""API Gateway's own answers (infra/template.yaml's GatewayResponses) are the project's
ErrorBody with a stable code, under a status docs/openapi.json declares for every operation
they can answer. moto does not run API Gateway: the template is checked against the document."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from cfnlint.decode import cfn_yaml

from entrypoints.api.openapi_models import ERROR_CODES, GATEWAY_ERRORS
from infra.render_template import routes_hash

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "infra" / "template.yaml"
DOCUMENT = json.loads((ROOT / "docs" / "openapi.json").read_text())
# Response type -> (status, code, the operations it can answer: every one, or the submission).
EXPECTED = {
    "INVALID_API_KEY": ("403", "invalid_api_key", "keyed"),
    "MISSING_AUTHENTICATION_TOKEN": ("404", "not_found", None),  # no such route: no operation
    "THROTTLED": ("429", "throttled", "all"),
    "QUOTA_EXCEEDED": ("429", "quota_exceeded", "keyed"),
    "REQUEST_TOO_LARGE": ("413", "payload_too_large", "submit"),
    "INTEGRATION_TIMEOUT": ("504", "gateway_timeout", "all"),
    "DEFAULT_4XX": (None, "http_error", None),
    "DEFAULT_5XX": (None, "gateway_error", "all"),
}


@pytest.fixture(scope="module")
def responses() -> dict[str, dict[str, Any]]:
    resources = cfn_yaml.load(str(TEMPLATE))["Resources"]
    found = {}
    for name, resource in resources.items():
        if resource["Type"] == "AWS::ApiGateway::GatewayResponse":
            properties = resource["Properties"]
            found[properties["ResponseType"]] = {"name": name, **properties}
    return found


def operations(which: str) -> list[dict[str, Any]]:
    every = [(path, op) for path, ops in DOCUMENT["paths"].items() for op in ops.values()]
    if which == "submit":
        return [op for path, op in every if op["operationId"] == "submitServiceRecords"]
    if which == "keyed":
        return [op for _, op in every if op.get("security")]
    return [op for _, op in every]


def test_every_gateway_answer_is_there(responses) -> None:
    assert set(responses) == set(EXPECTED)
    codes = {json.loads(r["ResponseTemplates"]["application/json"])["error"] for r in responses.values()}
    assert set(GATEWAY_ERRORS) <= codes <= set(ERROR_CODES)


@pytest.mark.parametrize("kind", sorted(EXPECTED))
def test_each_is_an_error_body_under_a_declared_status(responses, kind) -> None:
    status, code, answers = EXPECTED[kind]
    response = responses[kind]
    assert response.get("StatusCode") == status
    body = json.loads(response["ResponseTemplates"]["application/json"])
    error_body = {**DOCUMENT, "$ref": "#/components/schemas/ErrorBody"}
    jsonschema.Draft202012Validator(error_body).validate(body)
    assert body["error"] == code and body["message"] and "$" not in json.dumps(body)  # no template variables
    if answers:
        for operation in operations(answers):
            declared = operation["responses"].get(status or "5XX")
            assert declared, (operation["operationId"], status)
            schema = declared["content"]["application/json"]["schema"]
            jsonschema.Draft202012Validator({**DOCUMENT, **schema}).validate(body)


def test_a_changed_gateway_answer_redeploys_the_stage(responses) -> None:
    """Gateway responses are part of what a deployment snapshots, like the routes."""
    text = TEMPLATE.read_text()
    changed = text.replace("retry tomorrow", "retry after midnight UTC", 1)
    assert changed != text and routes_hash(changed) != routes_hash(text)
    deployment = cfn_yaml.load(str(TEMPLATE))["Resources"]["ApiDeployment"]
    assert {r["name"] for r in responses.values()} <= set(deployment["DependsOn"])
