"""Every AWS call written in the code is in ``adapters/aws/iam_actions.py``.

tests/integration/test_role_permissions.py judges the calls each component *made* in its day
on moto; this reads the source, so a call on a path that day does not take still has to be
mapped first (and the mapped-but-never-made test there then asks for the scenario to take it).
"""

from __future__ import annotations

import ast
from pathlib import Path

import botocore.session
import pytest
from botocore import xform_name

from adapters.aws.iam_actions import OPERATIONS, TRANSFER_OPERATIONS, Grant, Place, UnmappedOperation, needed

ROOT = Path(__file__).resolve().parents[2]
PLACE = Place(region="ap-southeast-3", account="123456789012")
# Methods named like an AWS operation that are not a client's: pyiceberg's Table evolves its
# own schema (Glue's UpdateSchema is the schema registry's, which nothing here calls).
NOT_A_CLIENT = {("adapters/iceberg_tables.py", "update_schema")}
# boto3's managed transfers: several S3 operations behind one method.
TRANSFERS = {"upload_fileobj", "upload_file", "download_fileobj", "download_file", "copy"}


def operation_names() -> dict[str, set[tuple[str, str]]]:
    """snake_case method -> the (service, Operation) pairs it names, for the mapped services."""
    session = botocore.session.get_session()
    found: dict[str, set[tuple[str, str]]] = {}
    for service in OPERATIONS:
        for operation in session.get_service_model(service).operation_names:
            found.setdefault(xform_name(operation), set()).add((service, operation))
    return found


def calls_in_source() -> dict[str, list[str]]:
    """Each AWS method, paginator and client named in the code, with where."""
    methods = operation_names()
    found: dict[str, list[str]] = {}
    for path in sorted(ROOT.glob("*/**/*.py")):
        if path.parts[len(ROOT.parts)] not in {
            "adapters",
            "entrypoints",
        }:  # the components (infra/sandbox.py drives moto)
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            if isinstance(node.func.value, ast.Name) and node.func.value.id == "self":
                continue  # the class's own method (an ObjectStore's list_objects), not a client's
            name, where = node.func.attr, f"{path.relative_to(ROOT)}:{node.lineno}"
            if (path.relative_to(ROOT).as_posix(), name) in NOT_A_CLIENT:
                continue
            text = node.args[0].value if node.args and isinstance(node.args[0], ast.Constant) else None
            if name in ("get_paginator", "client") and isinstance(text, str):
                found.setdefault(f"{name}:{text}", []).append(where)
            elif name in methods or name in TRANSFERS:
                found.setdefault(name, []).append(where)
    return found


def test_every_client_is_of_a_mapped_service() -> None:
    clients = {name.split(":", 1)[1] for name in calls_in_source() if name.startswith("client:")}
    assert clients and clients <= set(OPERATIONS), clients - set(OPERATIONS)


def test_every_aws_method_called_in_the_code_is_mapped() -> None:
    methods = operation_names()
    unmapped = []
    for name, where in calls_in_source().items():
        if name.startswith("client:"):
            continue
        if name in TRANSFERS:
            pairs = {("s3", op) for op in TRANSFER_OPERATIONS} if name == "upload_fileobj" else {("s3", name)}
        else:
            pairs = methods[name.split(":", 1)[-1]]
        if not any(operation in OPERATIONS.get(service, ()) for service, operation in pairs):
            unmapped.append(f"{name} at {', '.join(where)}")
    assert unmapped == []


def test_an_unmapped_operation_is_refused_by_name() -> None:
    with pytest.raises(UnmappedOperation, match=r"^s3:PutBucketPolicy is not in adapters/aws/iam_actions.py$"):
        needed("s3", "PutBucketPolicy", {"Bucket": "b"}, PLACE)


@pytest.mark.parametrize(
    ("call", "grants"),
    [
        # S3 answers a missing key 404 only to a caller that may list the bucket.
        (
            ("s3", "HeadObject", {"Bucket": "raw", "Key": "a/b.json"}),
            {Grant("s3:GetObject", "arn:aws:s3:::raw/a/b.json"), Grant("s3:ListBucket", "arn:aws:s3:::raw")},
        ),
        (("s3", "HeadBucket", {"Bucket": "raw"}), {Grant("s3:ListBucket", "arn:aws:s3:::raw")}),
        (("s3", "UploadPart", {"Bucket": "c", "Key": "k"}), {Grant("s3:PutObject", "arn:aws:s3:::c/k")}),
        (
            ("dynamodb", "Query", {"TableName": "t", "IndexName": "vin-history-index"}),
            {Grant("dynamodb:Query", "arn:aws:dynamodb:ap-southeast-3:123456789012:table/t/index/vin-history-index")},
        ),
        (
            ("dynamodb", "TransactWriteItems", {"TransactItems": [{"Put": {"TableName": "t"}}]}),
            {Grant("dynamodb:PutItem", "arn:aws:dynamodb:ap-southeast-3:123456789012:table/t")},
        ),
        (
            (
                "sqs",
                "StartMessageMoveTask",
                {"SourceArn": "arn:aws:sqs:ap-southeast-3:1:dlq", "DestinationArn": "arn:aws:sqs:ap-southeast-3:1:q"},
            ),
            {
                Grant("sqs:StartMessageMoveTask", "arn:aws:sqs:ap-southeast-3:1:dlq"),
                Grant("sqs:ReceiveMessage", "arn:aws:sqs:ap-southeast-3:1:dlq"),
                Grant("sqs:DeleteMessage", "arn:aws:sqs:ap-southeast-3:1:dlq"),
                Grant("sqs:GetQueueAttributes", "arn:aws:sqs:ap-southeast-3:1:dlq"),
                Grant("sqs:SendMessage", "arn:aws:sqs:ap-southeast-3:1:q"),
            },
        ),
        (  # a Glue table operation is authorised on its catalog, database and table
            ("glue", "UpdateTable", {"DatabaseName": "db", "TableInput": {"Name": "t"}, "VersionId": "3"}),
            {
                Grant("glue:UpdateTable", "arn:aws:glue:ap-southeast-3:123456789012:catalog"),
                Grant("glue:UpdateTable", "arn:aws:glue:ap-southeast-3:123456789012:database/db"),
                Grant("glue:UpdateTable", "arn:aws:glue:ap-southeast-3:123456789012:table/db/t"),
            },
        ),
        (
            ("apigateway", "DeleteApiKey", {"apiKey": "k1"}),
            {Grant("apigateway:DELETE", "arn:aws:apigateway:ap-southeast-3::/apikeys/k1")},
        ),
    ],
)
def test_the_documented_rules(call, grants) -> None:
    assert set(needed(*call, PLACE)) == grants
