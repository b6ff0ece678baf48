"""The worker image's lock is enough, and leaves the API's web stack out: a fresh virtual
environment with requirements-worker.lock alone (no fastapi, starlette, uvicorn, mangum)
processes a raw file through the Fargate worker's entrypoint."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import orjson
import pytest

from tests.factories import a_record
from tests.integration.lock_environments import environment_of

ROOT = Path(__file__).resolve().parents[2]
WEB = ("fastapi", "starlette", "uvicorn", "mangum")

_UPLOAD_THEN_DRAIN = """
import json, sys
from entrypoints.cli.main import main as cli
assert cli(["upload", sys.argv[1]]) == 0
from entrypoints.worker.fargate import main as worker
code = worker(["--drain"])
web = sorted(name for name in ("fastapi", "starlette", "uvicorn", "mangum") if name in sys.modules)
print(json.dumps({"exit": code, "web": web}))
"""


@pytest.mark.slow
def test_a_fresh_environment_with_the_worker_lock_processes_a_file(tmp_path) -> None:
    lock = (ROOT / "requirements-worker.lock").read_text()
    assert not [name for name in WEB if f"\n{name}==" in lock]
    python = environment_of("requirements-worker.lock", tmp_path / "worker-venv")
    raw = tmp_path / "batch.json"
    raw.write_bytes(orjson.dumps([a_record("SR-1"), a_record("SR-2", {"vehicle.vin": "SHORT"})]))
    env = {
        "PYTHONPATH": str(ROOT),
        "SERVICEPIPE_BACKEND": "local",
        "SERVICEPIPE_DATA_DIR": str(tmp_path / "data"),
        "SERVICEPIPE_LOG_LEVEL": "WARNING",
        "PATH": "/usr/bin:/bin",
    }
    ran = subprocess.run(
        [python, "-c", _UPLOAD_THEN_DRAIN, str(raw)], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert ran.returncode == 0, ran.stderr[-3000:]
    assert json.loads(ran.stdout.strip().splitlines()[-1]) == {"exit": 0, "web": []}
    cleaned = list((tmp_path / "data").rglob("dynamodb/**/*.jsonl"))
    rejected = list((tmp_path / "data").rglob("rejected/**/*.jsonl"))
    assert len(cleaned) == 1 and len(cleaned[0].read_text().splitlines()) == 1 and len(rejected) == 1
    missing = subprocess.run([python, "-c", "import fastapi"], capture_output=True)
    assert missing.returncode != 0  # the environment truly lacks it
