"""The IAM policies of infra/template.yaml, resolved for one stack's names, judged by the rule
AWS documents for identity policies: a request is allowed when some Allow statement matches
its action and its resource and no Deny statement does. Actions match case-insensitively,
resources case-sensitively; ``*`` matches any run of characters (``/`` included) and ``?`` one.
moto enforces none of this: it is checked here, against the calls each component really makes.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock

from botocore.client import BaseClient

from adapters.aws.iam_actions import Grant, Place, needed

TEMPLATE = Path(__file__).resolve().parents[1] / "infra" / "template.yaml"


@dataclass(frozen=True)
class Statement:
    effect: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    sid: str = ""

    def matches(self, grant: Grant) -> bool:
        return any(_like(grant.action, a, case=False) for a in self.actions) and any(
            _like(grant.resource, r, case=True) for r in self.resources
        )


def _like(value: str, pattern: str, case: bool) -> bool:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, flags=0 if case else re.IGNORECASE) is not None


def allows(statements: list[Statement], grant: Grant) -> bool:
    if any(s.effect == "Deny" and s.matches(grant) for s in statements):
        return False
    return any(s.effect == "Allow" and s.matches(grant) for s in statements)


def unused(statements: list[Statement], used: set[Grant]) -> list[str]:
    """Each ``action on resource`` an Allow statement grants that no used grant falls under."""
    left = []
    for statement in statements:
        if statement.effect != "Allow":
            continue
        for action in statement.actions:
            for resource in statement.resources:
                pattern = Statement("Allow", (action,), (resource,))
                if not any(pattern.matches(grant) for grant in used):
                    left.append(f"{statement.sid or '?'}: {action} on {resource}")
    return left


# ---------------------------------------------------------------- the template's policies


@dataclass(frozen=True)
class Names:
    """What the template's intrinsic functions resolve to for one stack."""

    place: Place
    refs: dict[str, str]  # logical id or parameter -> Ref value
    arns: dict[str, str]  # logical id -> Arn


def statements_of(
    logical_id: str, names: Names, skip: frozenset[str] = frozenset(), template: Path = TEMPLATE
) -> list[Statement]:
    """Every statement of a role's inline policies (or a managed policy's document) in
    ``template``, but those whose Sid is in ``skip``."""
    from cfnlint.decode import cfn_yaml

    resource = cfn_yaml.load(str(template))["Resources"][logical_id]
    properties = resource["Properties"]
    documents = [p["PolicyDocument"] for p in properties.get("Policies", [])]
    if "PolicyDocument" in properties:
        documents.append(properties["PolicyDocument"])
    found = []
    for document in documents:
        for raw in document["Statement"]:
            if raw.get("Sid") in skip:
                continue
            if "NotAction" in raw or "NotResource" in raw:
                raise ValueError(f"{logical_id}: NotAction/NotResource are not judged here")
            found.append(
                Statement(
                    effect=raw["Effect"],
                    actions=tuple(_listed(raw["Action"])),
                    resources=tuple(str(_resolve(r, names)) for r in _listed(raw["Resource"])),
                    sid=raw.get("Sid", ""),
                )
            )
    return found


def _listed(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


def _resolve(node: Any, names: Names) -> Any:
    if isinstance(node, str):
        return node
    ((function, argument),) = node.items()
    if function == "Ref":
        return _ref(argument, names)
    if function == "Fn::GetAtt":
        logical_id, attribute = argument if isinstance(argument, list) else argument.split(".", 1)
        if attribute != "Arn":
            raise ValueError(f"Fn::GetAtt {logical_id}.{attribute} is not resolved here")
        return names.arns[logical_id]
    if function == "Fn::Sub":
        text, variables = (argument, {}) if isinstance(argument, str) else argument
        return re.sub(r"\$\{([^}!]+)\}", lambda m: _sub(m.group(1), variables, names), text)
    raise ValueError(f"{function} is not resolved here")


def _sub(name: str, variables: dict[str, Any], names: Names) -> str:
    if name in variables:
        return str(_resolve(variables[name], names))
    if name.endswith(".Arn"):
        return names.arns[name[: -len(".Arn")]]
    return _ref(name, names)


def _ref(name: str, names: Names) -> str:
    pseudo = {
        "AWS::Partition": names.place.partition,
        "AWS::Region": names.place.region,
        "AWS::AccountId": names.place.account,
    }
    return pseudo.get(name) or names.refs[name]


# ---------------------------------------------------------------- the calls a component makes


@contextlib.contextmanager
def recorded_calls(answers: dict[str, dict[str, Any]] | None = None) -> Iterator[list[tuple[str, str, dict[str, Any]]]]:
    """Every AWS API call made in the block, by any client: (service, operation, parameters).
    ``answers`` answers the operations moto does not implement (recorded all the same)."""
    calls: list[tuple[str, str, dict[str, Any]]] = []
    real = BaseClient._make_api_call

    def recording(client: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        calls.append((client.meta.service_model.service_name, operation, dict(params)))
        if answers and operation in answers:
            return answers[operation]
        return real(client, operation, params)

    with mock.patch.object(BaseClient, "_make_api_call", recording):
        yield calls


def grants_of(calls: list[tuple[str, str, dict[str, Any]]], place: Place) -> set[Grant]:
    return {grant for service, operation, params in calls for grant in needed(service, operation, params, place)}
