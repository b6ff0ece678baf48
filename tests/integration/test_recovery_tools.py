"""The operators' recovery tools through the command line, on local adapters and on moto:
``dlq list|redrive``, ``replay`` and ``reconcile``, each run twice to show it is idempotent."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import orjson
import pytest
from moto import mock_aws

from entrypoints.cli import main as cli
from tests.factories import a_record
from tests.integration.aws_stack import create_stack

RECORDS = [a_record(f"SR-{i}") for i in range(5)] + [a_record("SR-bad", {"vehicle.vin": "short"})]


class Cli:
    """``servicepipe`` in this process, on one backend; returns (exit code, stdout, stderr)."""

    def __init__(self, capsys, base: list[str], queue) -> None:
        self.capsys, self.base, self.queue = capsys, base, queue

    def __call__(self, *args: str) -> tuple[int, str, str]:
        self.capsys.readouterr()
        code = cli.main([*self.base, *args])
        out, err = self.capsys.readouterr()
        return code, out, err


@pytest.fixture(params=["local", "aws"])
def servicepipe(request, tmp_path, capsys, monkeypatch):
    if request.param == "local":
        from adapters.local.sqlite_queue import SqliteQueue

        yield Cli(
            capsys, ["--data-dir", str(tmp_path / "data")], lambda: SqliteQueue(tmp_path / "data" / "queue.sqlite")
        )
        return
    request.getfixturevalue("aws_env")
    with mock_aws():
        stack = create_stack()
        boto3.client("sqs").purge_queue(QueueUrl=stack.queue_url)  # S3's test event: these tests count messages
        for name, value in stack.environment().items():
            monkeypatch.setenv(name, value)
        from adapters.aws.session import AwsClients
        from adapters.aws.sqs_queue import SqsQueue

        yield Cli(capsys, ["--backend", "aws"], lambda: SqsQueue(AwsClients(), stack.queue_url))


def upload(servicepipe, tmp_path, records=RECORDS) -> str:
    path = tmp_path / "batch.json"
    path.write_bytes(orjson.dumps(records))
    code, out, _ = servicepipe("upload", str(path))
    assert code == 0
    return json.loads(out)["file_key"]


def date_of(raw_key: str) -> str:
    return raw_key.split("/")[1].removeprefix("date=")


def process_and_load(servicepipe) -> None:
    assert servicepipe("worker", "--drain")[0] == 0
    assert servicepipe("load")[0] == 0


def reconciled(servicepipe, date: str) -> dict:
    code, out, _ = servicepipe("reconcile", "--date", date, "--json")
    report = json.loads(out)
    assert code == (0 if report["ok"] else 1)
    return report


def test_a_file_given_up_on_is_listed_and_left_in_place(servicepipe, tmp_path) -> None:
    raw_key = upload(servicepipe, tmp_path)
    queue = servicepipe.queue()
    for _ in range(5):  # five workers took it and failed (the fault tests fail real workers)
        (message,) = queue.receive(1, 1)
        queue.change_visibility(message.receipt_handle, 0)
    assert queue.receive(1, 1) == []  # the sixth receive moved it to the dead-letter queue
    assert queue.stats().dead_letter == 1

    for _ in range(2):  # listing leaves it where it is
        code, out, _ = servicepipe("dlq", "list", "--json")
        (letter,) = json.loads(out)
        assert code == 0 and letter["raw_keys"] == [raw_key] and letter["receive_count"] >= 5
    assert queue.stats().dead_letter == 1
    report = reconciled(servicepipe, date_of(raw_key))
    assert [p["problem"] for p in report["problems"]] == ["in none: not processed yet (6 rows)"]


def test_local_redrive_moves_every_dead_letter_back_once(tmp_path, capsys) -> None:
    from adapters.local.sqlite_queue import SqliteQueue

    servicepipe = Cli(capsys, ["--data-dir", str(tmp_path / "data")], None)
    raw_key = upload(servicepipe, tmp_path)
    queue = SqliteQueue(tmp_path / "data" / "queue.sqlite", max_receives=1)
    (message,) = queue.receive(1)
    queue.change_visibility(message.receipt_handle, 0)
    assert queue.receive(1) == [] and queue.stats().dead_letter == 1
    code, out, _ = servicepipe("dlq", "redrive", "--json")
    assert code == 0 and json.loads(out) == {
        "messages": 1,
        "started": True,
        "detail": "1 messages back on the work queue",
    }
    code, out, _ = servicepipe("dlq", "redrive")
    assert code == 0 and out.strip() == "the dead-letter queue is empty"
    (back,) = queue.receive(1)
    assert back.receive_count == 1  # a fresh start: five more tries before the DLQ again
    queue.change_visibility(back.receipt_handle, 0)
    process_and_load(servicepipe)
    report = reconciled(servicepipe, date_of(raw_key))
    assert report["ok"] and (report["cleaned_rows"], report["rejected_rows"], report["loaded_rows"]) == (5, 1, 5)


def test_replay_replaces_outputs_and_never_doubles_a_record(servicepipe, tmp_path) -> None:
    raw_key = upload(servicepipe, tmp_path)
    date = date_of(raw_key)
    process_and_load(servicepipe)
    before = reconciled(servicepipe, date)
    assert before["ok"] and (before["cleaned_rows"], before["rejected_rows"], before["loaded_rows"]) == (5, 1, 5)
    outputs = stored_keys(servicepipe)

    code, out, _ = servicepipe("replay", "--date", date)
    assert code == 0 and json.loads(out)["keys"] == [raw_key]
    code, out, _ = servicepipe("replay", raw_key, raw_key)  # twice in one call, and a second replay
    assert code == 0 and json.loads(out)["files"] == 1
    code, out, _ = servicepipe("worker", "--drain")
    assert code == 0 and json.loads(out)["files_processed"] == 2
    assert servicepipe("load")[0] == 0

    after = reconciled(servicepipe, date)
    assert after["ok"] and {k: after[k] for k in ("raw_rows", "cleaned_rows", "rejected_rows", "loaded_rows")} == {
        "raw_rows": 6,
        "cleaned_rows": 5,
        "rejected_rows": 1,
        "loaded_rows": 5,
    }
    assert {k for k in stored_keys(servicepipe) if "load-ledger/" not in k} == {
        k for k in outputs if "load-ledger/" not in k
    }


def test_replay_of_nothing_says_so_and_queues_nothing(servicepipe, tmp_path) -> None:
    upload(servicepipe, tmp_path)
    queued = servicepipe.queue().stats().visible
    code, _, err = servicepipe("replay", "--date", "2020-01-01")
    assert code == 1 and "no raw files under service-records/date=2020-01-01/" in err
    code, _, err = servicepipe("replay", "service-records/date=2020-01-01/missing.json", "../etc/passwd")
    assert code == 1 and "nothing replayed" in err
    code, _, err = servicepipe("replay")
    assert code == 2 and "give --date" in err
    assert servicepipe.queue().stats().visible == queued


def stored_keys(servicepipe) -> set[str]:
    if "--backend" in servicepipe.base:
        s3 = boto3.client("s3")
        return {
            f"{bucket}/{item['Key']}"
            for bucket in ("sp-cleaned", "sp-error")
            for item in s3.list_objects_v2(Bucket=bucket).get("Contents", [])
        }
    root = servicepipe.base[1]
    return {
        str(p.relative_to(root))
        for folder in ("cleaned", "error")
        for p in (Path(root) / folder).rglob("*")
        if p.is_file() and ".meta" not in p.parts
    }
