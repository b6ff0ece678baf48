"""Which IAM actions, on which resources, each AWS API call of the adapters needs.

The map the roles in ``infra/template.yaml`` are checked against (tests/integration/
test_role_permissions.py records every call a component makes and asks this module what it
needs). Sources: the Service Authorization Reference of each service, and three rules moto
does not emulate:

- S3 answers a GET or HEAD of a missing key with 404 only to a caller that may
  ``s3:ListBucket`` the bucket; to anyone else with 403 (AccessDenied). Every read here tells
  "not there yet" from "refused", so every object read needs ``s3:ListBucket`` on its bucket.
- ``TransactWriteItems`` needs the item action of each entry (``Put`` needs ``PutItem``...).
- ``StartMessageMoveTask`` also needs ``ReceiveMessage``, ``DeleteMessage`` and
  ``GetQueueAttributes`` on the source queue and ``SendMessage`` on the destination.

Standard library only: the Glue loader's bundle carries ``adapters/aws``.
"""

from __future__ import annotations

from typing import Any, NamedTuple


class Grant(NamedTuple):
    """One IAM action on one resource ARN."""

    action: str
    resource: str


class Place(NamedTuple):
    """Where a call runs: the partition, region and account its ARNs are built with."""

    region: str
    account: str
    partition: str = "aws"


# boto3's managed upload is these S3 operations (s3transfer picks by size).
TRANSFER_OPERATIONS = ("PutObject", "CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload")

_S3_OBJECT = {
    "GetObject": ("s3:GetObject",),
    "HeadObject": ("s3:GetObject",),
    "PutObject": ("s3:PutObject",),
    "CreateMultipartUpload": ("s3:PutObject",),
    "UploadPart": ("s3:PutObject",),
    "CompleteMultipartUpload": ("s3:PutObject",),
    "AbortMultipartUpload": ("s3:AbortMultipartUpload",),
    "DeleteObject": ("s3:DeleteObject",),
}
_S3_BUCKET = {
    "HeadBucket": ("s3:ListBucket",),
    "ListObjectsV2": ("s3:ListBucket",),
    "ListObjectVersions": ("s3:ListBucketVersions",),
}
_S3_READS = {"GetObject", "HeadObject"}  # a 404 needs s3:ListBucket (see the docstring)

_SQS = {
    "ReceiveMessage": ("sqs:ReceiveMessage",),
    "DeleteMessage": ("sqs:DeleteMessage",),
    "ChangeMessageVisibility": ("sqs:ChangeMessageVisibility",),
    "ChangeMessageVisibilityBatch": ("sqs:ChangeMessageVisibility",),
    "GetQueueAttributes": ("sqs:GetQueueAttributes",),
    "GetQueueUrl": ("sqs:GetQueueUrl",),
    "SendMessage": ("sqs:SendMessage",),
    "ListMessageMoveTasks": ("sqs:ListMessageMoveTasks",),
    "StartMessageMoveTask": (
        "sqs:StartMessageMoveTask",
        "sqs:ReceiveMessage",
        "sqs:DeleteMessage",
        "sqs:GetQueueAttributes",
    ),
}

_DYNAMODB = {
    "DescribeTable": ("dynamodb:DescribeTable",),
    "GetItem": ("dynamodb:GetItem",),
    "PutItem": ("dynamodb:PutItem",),
    "Query": ("dynamodb:Query",),
    "Scan": ("dynamodb:Scan",),
    "BatchGetItem": ("dynamodb:BatchGetItem",),
    "BatchWriteItem": ("dynamodb:BatchWriteItem",),
    "TransactWriteItems": (),  # the item actions of its entries (see _transaction)
}
_TRANSACTION_ENTRIES = {
    "Put": "dynamodb:PutItem",
    "Update": "dynamodb:UpdateItem",
    "Delete": "dynamodb:DeleteItem",
    "ConditionCheck": "dynamodb:ConditionCheckItem",
}

# API Gateway's management actions are the HTTP method on the resource's path.
_APIGATEWAY = {
    "CreateApiKey": ("POST", "/apikeys"),
    "GetApiKeys": ("GET", "/apikeys"),
    "DeleteApiKey": ("DELETE", "/apikeys/{apiKey}"),
    "CreateUsagePlanKey": ("POST", "/usageplans/{usagePlanId}/keys"),
}

_SECRETS = {"GetSecretValue": ("secretsmanager:GetSecretValue",)}

_CLOUDWATCH = {"PutMetricData": ("cloudwatch:PutMetricData",)}  # CloudWatch metrics have no ARNs

# The Glue Data Catalog's operations pyiceberg's Glue catalog makes: a table's are authorised
# on the catalog, the database and the table alike; GetDatabase (a new table's default
# location) on the catalog and the database.
_GLUE = {
    "GetDatabase": ("glue:GetDatabase",),
    "GetTable": ("glue:GetTable",),
    "CreateTable": ("glue:CreateTable",),
    "UpdateTable": ("glue:UpdateTable",),
}

OPERATIONS: dict[str, tuple[str, ...]] = {
    "s3": tuple(_S3_OBJECT) + tuple(_S3_BUCKET),
    "sqs": tuple(_SQS),
    "dynamodb": tuple(_DYNAMODB),
    "apigateway": tuple(_APIGATEWAY),
    "cloudwatch": tuple(_CLOUDWATCH),
    "glue": tuple(_GLUE),
    "secretsmanager": tuple(_SECRETS),
}


class UnmappedOperation(LookupError):
    """A call this map does not know: add its actions here (and to the role that makes it)."""


def needed(service: str, operation: str, params: dict[str, Any], place: Place) -> list[Grant]:
    """The grants one call needs."""
    if operation not in OPERATIONS.get(service, ()):
        raise UnmappedOperation(f"{service}:{operation} is not in adapters/aws/iam_actions.py")
    if service == "s3":
        return _s3(operation, params, place)
    if service == "sqs":
        return _sqs(operation, params, place)
    if service == "dynamodb":
        return _dynamodb(operation, params, place)
    if service == "glue":
        return _glue(operation, params, place)
    if service == "secretsmanager":  # SecretId is the ARN the stack hands the process
        return [Grant(action, str(params["SecretId"])) for action in _SECRETS[operation]]
    if service == "apigateway":
        method, path = _APIGATEWAY[operation]
        resource = f"arn:{place.partition}:apigateway:{place.region}::{path.format(**params)}"
        return [Grant(f"apigateway:{method}", resource)]
    return [Grant(action, "*") for action in _CLOUDWATCH[operation]]


def _s3(operation: str, params: dict[str, Any], place: Place) -> list[Grant]:
    bucket = f"arn:{place.partition}:s3:::{params['Bucket']}"
    if operation in _S3_BUCKET:
        return [Grant(action, bucket) for action in _S3_BUCKET[operation]]
    actions = _S3_OBJECT[operation]
    if operation == "DeleteObject" and params.get("VersionId"):
        actions = ("s3:DeleteObjectVersion",)  # a version deleted for good, not a delete marker
    grants = [Grant(action, f"{bucket}/{params['Key']}") for action in actions]
    if operation in _S3_READS:
        grants.append(Grant("s3:ListBucket", bucket))
    return grants


def _glue(operation: str, params: dict[str, Any], place: Place) -> list[Grant]:
    prefix = f"arn:{place.partition}:glue:{place.region}:{place.account}"
    if operation == "GetDatabase":
        resources: tuple[str, ...] = (f"{prefix}:catalog", f"{prefix}:database/{params['Name']}")
    else:
        database = str(params["DatabaseName"])
        table = str(params["Name"] if "Name" in params else params["TableInput"]["Name"])
        resources = (f"{prefix}:catalog", f"{prefix}:database/{database}", f"{prefix}:table/{database}/{table}")
    return [Grant(action, resource) for action in _GLUE[operation] for resource in resources]


def queue_arn(url: str, place: Place) -> str:
    """A queue's ARN from its URL (``https://sqs.<region>.amazonaws.com/<account>/<name>``)."""
    account, name = url.rstrip("/").split("/")[-2:]
    return f"arn:{place.partition}:sqs:{place.region}:{account}:{name}"


def _sqs(operation: str, params: dict[str, Any], place: Place) -> list[Grant]:
    if operation == "GetQueueUrl":
        owner = params.get("QueueOwnerAWSAccountId") or place.account
        queue = f"arn:{place.partition}:sqs:{place.region}:{owner}:{params['QueueName']}"
    elif "SourceArn" in params:
        queue = str(params["SourceArn"])
    else:
        queue = queue_arn(str(params["QueueUrl"]), place)
    grants = [Grant(action, queue) for action in _SQS[operation]]
    destination: str | None = params.get("DestinationArn")
    if operation == "StartMessageMoveTask":
        # With no destination, messages go back to the queues they came from: the caller
        # must be allowed to send to those (here: any of the account's queues it names).
        target = destination or f"arn:{place.partition}:sqs:{place.region}:{place.account}:*"
        grants.append(Grant("sqs:SendMessage", target))
    return grants


def _table(name: str, place: Place, index: str | None = None) -> str:
    arn = f"arn:{place.partition}:dynamodb:{place.region}:{place.account}:table/{name}"
    return f"{arn}/index/{index}" if index else arn


def _dynamodb(operation: str, params: dict[str, Any], place: Place) -> list[Grant]:
    if operation == "TransactWriteItems":
        return [_transaction(entry, place) for entry in params["TransactItems"]]
    if operation == "BatchGetItem":
        return [Grant("dynamodb:BatchGetItem", _table(name, place)) for name in params["RequestItems"]]
    if operation == "BatchWriteItem":  # an action of its own, whether it puts or deletes
        return [Grant("dynamodb:BatchWriteItem", _table(name, place)) for name in params["RequestItems"]]
    table = _table(str(params["TableName"]), place, params.get("IndexName"))
    return [Grant(action, table) for action in _DYNAMODB[operation]]


def _transaction(entry: dict[str, Any], place: Place) -> Grant:
    ((kind, body),) = entry.items()
    return Grant(_TRANSACTION_ENTRIES[kind], _table(str(body["TableName"]), place))
