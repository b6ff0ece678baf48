"""The API image's lock is enough: a fresh virtual environment with requirements-api.lock alone
(no pandas, pyarrow, polars, pandera) imports the Lambda handler and answers through it."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.integration.lock_environments import environment_of

ROOT = Path(__file__).resolve().parents[2]

_ANSWER_HEALTH = """
import json, sys
from entrypoints.api import lambda_handler as api_lambda
event = {"resource": "/health", "path": "/health", "httpMethod": "GET", "headers": {}, "multiValueHeaders": {},
         "queryStringParameters": None, "multiValueQueryStringParameters": None, "pathParameters": None,
         "stageVariables": None, "requestContext": {"resourcePath": "/health", "httpMethod": "GET",
         "path": "/v1/health", "stage": "v1", "identity": {"sourceIp": "127.0.0.1"}},
         "body": None, "isBase64Encoded": False}
answer = api_lambda.handler(event, None)
data = sorted(name for name in ("pandas", "pyarrow", "polars", "pandera", "numpy") if name in sys.modules)
print(json.dumps({"status": answer["statusCode"], "data_libraries": data}))
"""


@pytest.mark.slow
def test_a_fresh_environment_with_the_api_lock_runs_the_handler(tmp_path) -> None:
    python = environment_of("requirements-api.lock", tmp_path / "api-venv")
    env = {
        "PYTHONPATH": str(ROOT),
        "RAW_BUCKET_NAME": "raw",
        "AWS_DEFAULT_REGION": "ap-southeast-3",
        "PATH": "/usr/bin:/bin",
    }
    ran = subprocess.run([python, "-c", _ANSWER_HEALTH], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert ran.returncode == 0, ran.stderr[-3000:]
    assert json.loads(ran.stdout.strip().splitlines()[-1]) == {"status": 200, "data_libraries": []}
    missing = subprocess.run([python, "-c", "import pandas"], capture_output=True)
    assert missing.returncode != 0  # the environment truly lacks them
