"""Each command imports only what it runs (issue 18): `--help` and the commands that read or
write a few records run with pandas, pyarrow, polars, pandera and numpy made unimportable, and
load neither FastAPI (but `serve`) nor boto3 on local adapters. The worker and `insights`
import their data libraries once they start work."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from tests.factories import VALID_VIN, a_record

ROOT = Path(__file__).resolve().parents[2]
DATA_LIBRARIES = ["pandas", "pyarrow", "polars", "pandera", "numpy"]
WATCHED = [*DATA_LIBRARIES, "fastapi", "boto3"]

_PROBE = f"""
import json, sys
for name in {DATA_LIBRARIES!r}:
    sys.modules[name] = None  # importing it now fails
import uvicorn
uvicorn.Server.run = lambda self, sockets=None: None  # serve: build the app, bind, do not serve
from entrypoints.cli.main import main
try:
    code = main(json.loads(sys.argv[1]))
except SystemExit as stop:
    code = stop.code
loaded = sorted(n for n in {WATCHED!r} if sys.modules.get(n) is not None)
print(json.dumps({{"exit": code, "loaded": loaded}}), file=sys.stderr)
"""


def run_light(argv: list[str]) -> dict:
    env = {**os.environ, "SERVICEPIPE_BACKEND": "local"}
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(argv)], cwd=ROOT, env=env, capture_output=True, text=True
    )
    lines = done.stderr.strip().splitlines()
    assert lines and lines[-1].startswith('{"exit"'), (argv, done.stderr[-2000:])
    return json.loads(lines[-1])


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.slow
def test_light_commands_run_without_the_data_libraries(tmp_path) -> None:
    data = ["--data-dir", str(tmp_path / "data")]
    record = tmp_path / "one.json"
    record.write_bytes(orjson.dumps([a_record("SR-LIGHT")]))
    commands = [
        ["--help"],
        [*data, "submit", str(record)],
        [*data, "status", "--json"],
        [*data, "status"],
        [*data, "dealers", "add", "DLR-JKT-001"],
        [*data, "dealers", "list"],
        [*data, "history", VALID_VIN],
        [*data, "dlq", "list"],
        [*data, "serve", "--port", str(free_port())],
    ]
    seen = {" ".join(argv[2:] if argv[0] == "--data-dir" else argv): run_light(argv) for argv in commands}
    expected = {"exit": 0, "loaded": []}
    assert {name: got for name, got in seen.items() if name.startswith("serve")} == {
        next(n for n in seen if n.startswith("serve")): {"exit": 0, "loaded": ["fastapi"]}
    }
    assert {name: got for name, got in seen.items() if not name.startswith("serve")} == {
        name: expected for name in seen if not name.startswith("serve")
    }


@pytest.mark.slow
def test_the_worker_imports_its_data_libraries_only_to_work(tmp_path) -> None:
    """An empty queue needs none of them: the use-case is built when the first file comes."""
    data = ["--data-dir", str(tmp_path / "data")]
    record = tmp_path / "one.json"
    record.write_bytes(orjson.dumps([a_record("SR-WORK")]))
    assert run_light([*data, "submit", str(record)]) == {"exit": 0, "loaded": []}
    subprocess.run(
        [sys.executable, "-m", "entrypoints.cli.main", *data, "worker", "--drain"], cwd=ROOT, check=True
    )  # the submission processed, so that the queue is empty
    assert run_light([*data, "worker", "--drain"]) == {"exit": 0, "loaded": []}
