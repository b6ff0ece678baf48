"""The API needs none of the data libraries: the Lambda handler imports and answers a POST with
pandas, pyarrow, polars, pandera and numpy made unimportable, as in an API-only image."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DATA_LIBRARIES = ["pandas", "pyarrow", "polars", "pandera", "numpy"]

_PROBE = f"""
import json, sys
for name in {DATA_LIBRARIES!r}:
    sys.modules[name] = None  # importing it now fails
import boto3
from moto import mock_aws
import orjson
from entrypoints.api import lambda_handler as api_lambda
from tests.factories import a_record
from tests.integration.aws_stack import issue_key
from tests.integration.lambda_events import LambdaContext, api_gateway_event
with mock_aws():
    boto3.client("s3").create_bucket(
        Bucket="raw", CreateBucketConfiguration={{"LocationConstraint": "ap-southeast-3"}}
    )
    dynamodb = boto3.client("dynamodb")
    dynamodb.create_table(
        TableName="keys", BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{{"AttributeName": "key_id", "AttributeType": "S"}}],
        KeySchema=[{{"AttributeName": "key_id", "KeyType": "HASH"}}],
    )
    key = issue_key(dynamodb, "keys", dealer_id="DLR-JKT-001")
    answer = api_lambda.handler(api_gateway_event(orjson.dumps([a_record()]), key=key), LambdaContext())
loaded = sorted(n for n in {DATA_LIBRARIES!r} if sys.modules.get(n) is not None)
print(json.dumps({{"status": answer["statusCode"], "loaded": loaded}}))
"""


@pytest.mark.slow
def test_the_lambda_handler_answers_without_the_data_libraries(aws_env) -> None:
    import json
    import os

    env = {**os.environ, "RAW_BUCKET_NAME": "raw", "API_KEYS_TABLE_NAME": "keys", "SERVICEPIPE_LOG_LEVEL": "WARNING"}
    done = subprocess.run([sys.executable, "-c", _PROBE], cwd=ROOT, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {"status": 202, "loaded": []}
