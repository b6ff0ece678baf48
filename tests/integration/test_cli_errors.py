"""Everyday mistakes: one clear line on stderr, a non-zero exit (2 for usage), no traceback,
and nothing created or stored."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from entrypoints.cli import main as cli
from entrypoints.loader import glue_load_to_dynamo
from tests.factories import a_record

SERVICEPIPE = str(Path(sys.executable).parent / "servicepipe")
ENV_NAMES = (
    "SERVICEPIPE_BACKEND",
    "SERVICEPIPE_BATCH_BYTES",
    "SERVICEPIPE_QUEUE_VISIBILITY_TIMEOUT",
    "SERVICEPIPE_LOG_LEVEL",
    "RAW_BUCKET_NAME",
    "CLEANED_BUCKET_NAME",
    "ERROR_BUCKET_NAME",
    "SQS_QUEUE_URL",
    "ANALYTICS_DATABASE_NAME",
    "RECORD_INDEX_TABLE_NAME",
    "PSEUDONYM_KEY_SECRET_ARN",
)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch) -> None:
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)


def run_main(capsys, *argv: str) -> tuple[int, str]:
    try:
        code = cli.main(list(argv))
    except SystemExit as exit_:  # argparse's usage errors
        code = int(exit_.code or 0)
    return code, capsys.readouterr().err


MISTAKES = {
    "submit a missing file": ((["submit", "{tmp}/nope.json"], {}), "no such file: {tmp}/nope.json"),
    "submit a folder": ((["submit", "{tmp}"], {}), "is a folder"),
    "upload a missing file": ((["upload", "{tmp}/nope.jsonl"], {}), "no such file"),
    "upload a folder": ((["upload", "{tmp}"], {}), "is a folder"),
    "load --date nonsense": ((["load", "--date", "nonsense"], {}), "'nonsense' is not a date: write YYYY-MM-DD"),
    "load --date 2026-02-30": ((["load", "--date", "2026-02-30"], {}), "'2026-02-30' is not a date"),
    "an invalid --log-level": ((["--log-level", "LOUD", "status"], {}), "use one of DEBUG, INFO, WARNING"),
    "an unknown backend": ((["status"], {"SERVICEPIPE_BACKEND": "cloud"}), "unknown backend 'cloud'"),
    "an invalid log level variable": ((["status"], {"SERVICEPIPE_LOG_LEVEL": "chatty"}), "SERVICEPIPE_LOG_LEVEL"),
    "non-numeric batch bytes": (
        (["status"], {"SERVICEPIPE_BATCH_BYTES": "10MB"}),
        "SERVICEPIPE_BATCH_BYTES must be a whole number of bytes, got '10MB'",
    ),
    "non-numeric visibility timeout": (
        (["worker", "--drain"], {"SERVICEPIPE_QUEUE_VISIBILITY_TIMEOUT": "soon"}),
        "SERVICEPIPE_QUEUE_VISIBILITY_TIMEOUT must be a whole number of seconds",
    ),
    "aws without its variables": (
        (["--backend", "aws", "worker", "--drain"], {}),
        "--backend aws needs RAW_BUCKET_NAME, CLEANED_BUCKET_NAME, ERROR_BUCKET_NAME, SQS_QUEUE_URL",
    ),
    "aws submit without its bucket": ((["--backend", "aws", "submit", "-"], {}), "needs RAW_BUCKET_NAME:"),
    "generate -3": ((["generate", "-3"], {}), "-3 is negative"),
    "generate --bad-fraction 2": ((["generate", "5", "--bad-fraction", "2"], {}), "2 is not between 0 and 1"),
    "run --records lots": ((["run", "--records", "lots"], {}), "'lots' is not a whole number"),
    "serve --port 70000": ((["serve", "--port", "70000"], {}), "70000 is not a port"),
    "status of a mistyped data dir": ((["--data-dir", "{tmp}/typo", "status"], {}), "no data folder at {tmp}/typo"),
    "publish of a mistyped data dir": ((["--data-dir", "{tmp}/typo", "publish"], {}), "no data folder at {tmp}/typo"),
    "publish --date 2026-13-01": ((["publish", "--date", "2026-13-01"], {}), "'2026-13-01' is not a date"),
    "forget without a dealer": ((["forget", "--customer", "C-1"], {}), "a dealer id is required"),
    "forget naming nobody": (
        (["forget", "--dealer", "DLR-1"], {}),
        "servicepipe forget: name exactly one of a customer id and a service record id "
        "(--dealer DEALER_ID with --customer CUSTOMER_ID or --record ID)",
    ),
    "forget a blank customer": (
        (["forget", "--dealer", "DLR-1", "--customer", " "], {}),
        "the customer id is blank: give the dealership's own id",
    ),
    "forget a customer and a record": (
        (["forget", "--dealer", "DLR-1", "--customer", "C-1", "--record", "SR-1"], {}),
        "argument --record: not allowed with argument --customer",
    ),
    "forget --status in a mistyped data dir": (
        (["--data-dir", "{tmp}/typo", "forget", "--status", "x"], {}),
        "no data folder at {tmp}/typo",
    ),
    "forget on aws without its variables": (
        (["--backend", "aws", "forget", "--dealer", "DLR-1", "--customer", "C-1"], {}),
        "needs RAW_BUCKET_NAME, CLEANED_BUCKET_NAME, ERROR_BUCKET_NAME, ANALYTICS_DATABASE_NAME, "
        "RECORD_INDEX_TABLE_NAME, PSEUDONYM_KEY_SECRET_ARN",
    ),
    "publish on aws without its database": (
        (["--backend", "aws", "publish"], {"CLEANED_BUCKET_NAME": "sp-cleaned"}),
        "servicepipe publish: --backend aws needs ANALYTICS_DATABASE_NAME: set them in the environment",
    ),
}


@pytest.mark.parametrize("mistake", list(MISTAKES))
def test_everyday_mistakes_get_one_clear_line_and_exit_2(tmp_path, monkeypatch, capsys, mistake) -> None:
    (argv, env), expected = MISTAKES[mistake]
    monkeypatch.chdir(tmp_path)  # the default data folder would land here
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    argv = [arg.format(tmp=tmp_path) for arg in argv]
    code, err = run_main(capsys, *argv)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and expected.format(tmp=tmp_path) in lines[0], err
    assert "Traceback" not in err
    assert not (tmp_path / ".servicepipe-data").exists()  # nothing created by a refused command
    assert not (tmp_path / "typo").exists()


def test_glue_loader_refuses_an_impossible_process_date(capsys) -> None:
    with pytest.raises(SystemExit) as exit_:
        glue_load_to_dynamo.main(
            ["job", "--DYNAMODB_TABLE_NAME", "t", "--SOURCE_BUCKET_NAME", "b", "--PROCESS_DATE", "2026-13-45"]
        )
    err = capsys.readouterr().err.strip().splitlines()
    assert exit_.value.code == 2 and len(err) == 1 and "--PROCESS_DATE must be a date written YYYY-MM-DD" in err[0]


@pytest.mark.parametrize("command", ["submit", "upload"])
def test_a_dash_reads_stdin(tmp_path, monkeypatch, capsys, command) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(orjson.dumps([a_record("SR-1")]))))
    code, err = run_main(capsys, "--data-dir", str(tmp_path), command, "-")
    assert code == 0, err
    stored = list((tmp_path / "raw" / "service-records").rglob("*"))
    assert [p for p in stored if p.is_file()]


def test_a_mistake_in_a_real_process_prints_no_traceback(tmp_path) -> None:
    done = subprocess.run(
        [SERVICEPIPE, "--data-dir", str(tmp_path), "load", "--date", "2026-02-30"], capture_output=True, text=True
    )
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert json.dumps(done.stdout) == '""'


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "the file is empty: it holds no records. Nothing was uploaded"),
        (b"\xef\xbb\xbf \n\n", "the file is empty: it holds no records. Nothing was uploaded"),
        (b"dealer,vin\nDLR-1,MHF\n", "not a JSON array or JSON Lines file: it starts with b'dealer,vin\\nDLR-1'"),
    ],
    ids=["empty", "blank", "csv"],
)
def test_an_upload_that_can_hold_no_records_is_refused_at_once(tmp_path, monkeypatch, capsys, content, expected):
    """As the API refuses such a body: exit 2 with one line, nothing stored or queued."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "export.json").write_bytes(content)
    code, err = run_main(capsys, "--data-dir", str(tmp_path / "d"), "upload", str(tmp_path / "export.json"))
    assert code == 2 and len(err.strip().splitlines()) == 1 and expected in err and "Traceback" not in err
    raw = tmp_path / "d" / "raw"
    assert not raw.exists() or not [p for p in raw.rglob("*") if p.is_file()]
    assert cli.main(["--data-dir", str(tmp_path / "d"), "status", "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert (status["raw_files"], status["queued"]) == (0, 0)


def test_an_uploads_receipt_can_be_looked_up(tmp_path, capsys) -> None:
    data = str(tmp_path / "d")

    def servicepipe(*argv: str) -> str:
        assert cli.main(["--data-dir", data, *argv]) == 0
        return capsys.readouterr().out

    (tmp_path / "export.jsonl").write_bytes(b"".join(orjson.dumps(a_record(f"SR-{i}")) + b"\n" for i in range(3)))
    receipt = json.loads(servicepipe("upload", str(tmp_path / "export.jsonl")))
    assert "received" in servicepipe("status", "--submission", receipt["submission_id"])
    servicepipe("worker", "--drain")
    processed = servicepipe("status", "--submission", receipt["submission_id"])
    assert "processed" in processed and "3" in processed


@pytest.mark.parametrize("command", [["generate", "50000"], ["generate", "50000", "--jsonl"]])
def test_output_closed_early_is_one_line_and_exit_2(tmp_path, command) -> None:
    """`servicepipe generate ... | head -1`: the reader goes away; no BrokenPipeError traceback."""
    servicepipe = str(Path(sys.executable).parent / "servicepipe")
    process = subprocess.Popen(
        [servicepipe, "--data-dir", str(tmp_path / "d"), *command],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None and process.stdout.readline()
    process.stdout.close()  # as head does once it has its line
    _, err = process.communicate(timeout=120)
    lines = err.decode().strip().splitlines()
    assert process.returncode == 2, err
    assert lines == [f"servicepipe {command[0]}: the output was closed before it was all written (a pager or head?)"]


@pytest.mark.parametrize(
    ("out", "expected"),
    [
        ("{tmp}/a-file", "--out {tmp}/a-file is a file; give a folder for the report and its CSV files"),
        ("/proc/no-such/report", "--out /proc/no-such/report: cannot make that folder"),
    ],
)
def test_insights_out_that_cannot_be_a_folder_is_one_line(tmp_path, capsys, out, expected) -> None:
    (tmp_path / "a-file").write_text("x")
    code, err = run_main(capsys, "--data-dir", str(tmp_path / "d"), "insights", "--out", out.format(tmp=tmp_path))
    assert code == 2 and len(err.strip().splitlines()) == 1 and expected.format(tmp=tmp_path) in err
    assert "Traceback" not in err


def test_serve_on_a_port_in_use_is_one_line_and_exit_2(tmp_path) -> None:
    """It used to log "listening" and then exit 3 from inside uvicorn."""
    import socket

    servicepipe = str(Path(sys.executable).parent / "servicepipe")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [servicepipe, "--data-dir", str(tmp_path / "d"), "serve", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert done.returncode == 2 and "Traceback" not in done.stderr
    lines = [line for line in done.stderr.strip().splitlines() if not line.startswith("{")]  # JSON log lines
    assert lines == [
        f"servicepipe serve: port {port} on 127.0.0.1 is already in use (another serve?); choose another with --port"
    ]
    assert "listening on" not in done.stderr


def test_an_unreachable_aws_endpoint_is_one_line_and_exit_1(tmp_path) -> None:
    """It printed 35 frames of traceback; a network failure is exit 1 (a retry may mend it)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    endpoint = f"http://127.0.0.1:{port}"
    env = {
        "PATH": "/usr/bin:/bin",
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "ap-southeast-3",
        "AWS_MAX_ATTEMPTS": "1",
        "RAW_BUCKET_NAME": "raw",
        "CLEANED_BUCKET_NAME": "cleaned",
        "ERROR_BUCKET_NAME": "error",
        "SQS_QUEUE_URL": f"{endpoint}/000000000000/q",
        "DYNAMODB_TABLE_NAME": "t",
    }
    servicepipe = str(Path(sys.executable).parent / "servicepipe")
    done = subprocess.run(
        [servicepipe, "--backend", "aws", "status"], capture_output=True, text=True, env=env, timeout=300
    )
    lines = [line for line in done.stderr.strip().splitlines() if not line.startswith("{")]
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    assert len(lines) == 1 and lines[0].startswith("servicepipe status: network error talking to AWS: ")
    assert lines[0].endswith("; check the network (and AWS_ENDPOINT_URL), then try again")


def test_the_status_of_an_unknown_erasure_request_says_what_to_give(tmp_path, capsys) -> None:
    code, err = run_main(
        capsys, "--data-dir", str(tmp_path), "forget", "--status", "0f0e0d0c-0000-4000-8000-00000000dead"
    )
    assert code == 2
    assert err == (
        "servicepipe forget: no erasure request '0f0e0d0c-0000-4000-8000-00000000dead': "
        "give the request id forget printed\n"
    )
