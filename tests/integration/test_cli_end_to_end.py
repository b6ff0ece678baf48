"""The ``servicepipe`` console script, run as a user would, on a temporary data directory."""

from __future__ import annotations

import csv
import json
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import orjson
import pytest

from tests.factories import a_record

SERVICEPIPE = str(Path(sys.executable).parent / "servicepipe")


def cli(data_dir: Path, *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [SERVICEPIPE, "--data-dir", str(data_dir), *args], capture_output=True, text=True, timeout=300
    )
    if ok:
        assert done.returncode == 0, done.stderr
    return done


def status(data_dir: Path) -> dict[str, int]:
    return json.loads(cli(data_dir, "status", "--json").stdout)


def lines(path: Path) -> list[dict]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]


def assert_every_row_accounted_for(data_dir: Path, raw_key: str, total: int) -> None:
    name = raw_key.rsplit("/", 1)[-1]
    date = raw_key.split("date=")[1].split("/")[0]
    valid = [r["record_index"] for r in lines(data_dir / f"cleaned/dynamodb/date={date}/{name}.jsonl")]
    rejected_file = data_dir / f"error/rejected/date={date}/{name}.jsonl"
    rejected = [r["index"] for r in lines(rejected_file)] if rejected_file.exists() else []
    assert sorted(valid + rejected) == list(range(total))


COMMANDS = ["run", "generate", "submit", "upload", "worker", "load", "status", "serve"]
COMMANDS += ["dealers", "history", "insights", "publish", "forget"]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(tmp_path, command) -> None:
    assert "usage: servicepipe" in cli(tmp_path, command, "--help").stdout


def test_run_processes_sample_data_end_to_end(tmp_path) -> None:
    done = cli(tmp_path, "run", "--records", "300", "--seed", "7")
    assert "3 submissions accepted" in done.stdout and "rejected rows by rule" in done.stdout
    counts = status(tmp_path)
    assert counts["raw_files"] == 3 and counts["processed_files"] == 3 and counts["queued"] == 0
    assert counts["valid_rows"] + counts["rejected_rows"] == 300
    assert 0 < counts["rejected_rows"] < 60
    assert counts["loaded_records"] == counts["valid_rows"]
    assert len(list((tmp_path / "cleaned/parquet/fact_service_records").rglob("*.parquet"))) == 3
    assert re.search(r"reconcile \d{4}-\d{2}-\d{2}: each of 300 rows in exactly one place", done.stdout)
    report = Path(done.stdout.split("insights report: ")[1].split(" (open it")[0])
    assert report == (tmp_path / "insights" / "insights.html").resolve()
    page = report.read_text()
    assert page.count('data-chart="') == 6 and f"{counts['valid_rows']:,} service records" in page
    day = re.search(r"published 1 date \((\d{4}-\d{2}-\d{2})\), 0 unchanged", done.stdout)
    assert day, done.stdout
    facts = list((tmp_path / "cleaned/iceberg").rglob(f"fact_service_records/data/ingest_date={day[1]}/*.parquet"))
    assert len(facts) == 1  # three raw files' facts, published as one file


def test_a_second_run_adds_the_same_cars_later_visits(tmp_path) -> None:
    """It once sent the same visits again under new ids: 1,876 repeat repairs 0 days and
    0 km apart. Now the second run is the fleet's next year."""
    for _ in range(2):
        cli(tmp_path, "run", "--records", "400", "--seed", "5")
    repeats = list(csv.DictReader((tmp_path / "insights" / "repeat_repairs.csv").open()))
    assert repeats and all(float(r["days_apart"]) >= 1 and float(r["km_apart"]) > 0 for r in repeats)
    assert json.loads((tmp_path / "sample_fleet.json").read_text())["5"]["runs"] == 2
    records = [r for path in (tmp_path / "cleaned/dynamodb").rglob("*.jsonl") for r in lines(path)]
    cars = {}
    for record in records:
        cars.setdefault(record["vehicle"]["vin"], []).append(record["service_details"]["service_date"][:4])
    assert sum(1 for years in cars.values() if len(set(years)) > 1) > len(cars) / 2  # back a year later


def test_publish_commits_each_changed_date_once_and_says_so(tmp_path) -> None:
    cli(tmp_path, "run", "--records", "200", "--seed", "7")
    again = cli(tmp_path, "publish")
    assert again.stdout == "nothing to publish: 1 date already published as they are\n"
    day = next((tmp_path / "cleaned/manifests").iterdir()).name.removeprefix("date=")
    forced = json.loads(cli(tmp_path, "publish", "--date", day, "--json").stdout)
    assert forced["dates_published"] == [day] and forced["problems"] == {}
    assert forced["tables"]["fact_service_records"]["files"] == 1
    assert forced["tables"]["dim_dealer"]["rows"] == len({r["dealer_id"] for r in _dealers(tmp_path)})


def _dealers(data_dir: Path) -> list[dict]:
    return [r["dealer"] for r in lines(next((data_dir / "cleaned/dynamodb").rglob("*.jsonl")))]


def test_publish_names_a_missing_output_and_exits_1(tmp_path) -> None:
    cli(tmp_path, "run", "--records", "100", "--seed", "7")
    lost = next((tmp_path / "cleaned/parquet/dim_parts_used").rglob("*.parquet"))
    lost.unlink()
    day = lost.parent.name.removeprefix("date=")
    done = cli(tmp_path, "publish", "--date", day, ok=False)
    key = lost.relative_to(tmp_path / "cleaned").as_posix()
    assert done.returncode == 1 and done.stderr == (
        f"servicepipe publish: {day} not published: output {key} is listed in its manifest but missing: "
        "replay its raw file\n"
    )
    assert done.stdout == "nothing to publish: 0 dates already published as they are\n"


def test_generate_repeats_its_content_with_a_seed_under_ids_of_its_own(tmp_path) -> None:
    first = [
        orjson.loads(line) for line in cli(tmp_path, "generate", "20", "--seed", "3", "--jsonl").stdout.splitlines()
    ]
    again = [
        orjson.loads(line) for line in cli(tmp_path, "generate", "20", "--seed", "3", "--jsonl").stdout.splitlines()
    ]
    assert len(first) == 20 and not {r["service_record_id"] for r in first} & {r["service_record_id"] for r in again}
    assert [{**r, "service_record_id": ""} for r in first] == [{**r, "service_record_id": ""} for r in again]
    assert len(json.loads(cli(tmp_path, "generate", "5").stdout)) == 5


def test_submit_upload_worker_load_with_bad_inputs(tmp_path) -> None:
    data = tmp_path / "data"
    good = tmp_path / "good.json"
    good.write_bytes(orjson.dumps([a_record("G1"), a_record("G2", {"vehicle.vin": "BAD"}), a_record("G3")]))
    receipt = json.loads(cli(data, "submit", str(good)).stdout)
    assert receipt["status"] == "accepted" and receipt["record_count"] == 3

    broken = tmp_path / "broken.json"
    broken.write_bytes(orjson.dumps([a_record("B1", {"dealer": None})]))
    refused = cli(data, "submit", str(broken), ok=False)
    assert refused.returncode == 1 and "record 0 (B1): dealer: Field required" in refused.stderr
    assert "nothing was stored" in refused.stderr
    malformed = tmp_path / "malformed.json"
    malformed.write_text("[{")
    assert "not valid JSON" in cli(data, "submit", str(malformed), ok=False).stderr

    binary = tmp_path / "photo.png"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    png = cli(data, "upload", str(binary), ok=False)  # refused at once, as the API would
    assert png.returncode == 2 and "not a JSON array or JSON Lines file" in png.stderr
    broken_array = tmp_path / "broken array.json"  # an array, but a '}' too many: unreadable later
    broken_array.write_bytes(b"[" + orjson.dumps(a_record("A1")) + b"}]")
    all_bad = tmp_path / "all bad.jsonl"
    all_bad.write_bytes(b"\n".join(orjson.dumps(a_record(f"X{i}", {"vehicle.odometer_reading": -1})) for i in range(4)))
    dupes = tmp_path / "dupes.jsonl"
    dupes.write_bytes(b"\n".join(orjson.dumps(a_record(i)) for i in ["D1", "D2", "D1", "D1"]))
    uploaded = {
        p.name: json.loads(cli(data, "upload", str(p)).stdout)["file_key"] for p in (broken_array, all_bad, dupes)
    }
    assert "_all_bad.jsonl-" in uploaded["all bad.jsonl"]  # the client's name, sanitised, stays readable
    assert status(data)["raw_files"] == 4 and status(data)["queued"] == 4

    worker = json.loads(cli(data, "worker", "--drain").stdout)
    assert (worker["files_processed"], worker["files_unreadable"], worker["failures"]) == (3, 1, 0)
    load = json.loads(cli(data, "load").stdout)
    assert load["records_loaded"] == 2 + 0 + 2 and load["files_failed"] == []
    assert json.loads(cli(data, "load", "--all-pending").stdout)["files_loaded"] == 0

    counts = status(data)
    assert counts == {
        "raw_files": 4,
        "queued": 0,
        "in_dlq": 0,
        "processed_files": 3,
        "valid_rows": 4,
        "rejected_rows": 1 + 4 + 2,
        "unreadable_files": 1,
        "loaded_records": 4,
        "loaded_records_exact": True,
    }
    assert_every_row_accounted_for(data, receipt["file_key"], 3)
    assert_every_row_accounted_for(data, uploaded["all bad.jsonl"], 4)
    assert_every_row_accounted_for(data, uploaded["dupes.jsonl"], 4)
    unreadable = data / "error/unreadable" / uploaded["broken array.json"].split("service-records/")[1]
    assert unreadable.read_bytes() == broken_array.read_bytes()
    reason = json.loads(unreadable.with_name(unreadable.name + ".reason.json").read_text())["reason"]
    assert reason.startswith("the JSON array is broken at byte ")
    assert (data / "raw" / uploaded["broken array.json"]).read_bytes() == broken_array.read_bytes()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_accepts_submissions_over_http_and_logs_each_request(tmp_path) -> None:
    key = cli(tmp_path / "data", "dealers", "add", "DLR-JKT-001").stdout.strip()
    port = _free_port()
    log_path = tmp_path / "serve.log"
    with log_path.open("w") as log_file:
        server = subprocess.Popen(
            [SERVICEPIPE, "--data-dir", str(tmp_path / "data"), "serve", "--port", str(port)], stderr=log_file
        )
    json_headers = {"Content-Type": "application/json", "x-api-key": key}
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{base}/health", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        body = orjson.dumps([a_record()])
        request = urllib.request.Request(f"{base}/service-records", data=body, method="POST", headers=json_headers)
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 202
            receipt = json.loads(response.read())
        assert (tmp_path / "data" / "raw" / receipt["file_key"]).exists()
        bad = urllib.request.Request(f"{base}/service-records", data=b"{", method="POST", headers=json_headers)
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(bad, timeout=10)
        assert caught.value.code == 400
        keyless = urllib.request.Request(f"{base}/service-records", data=body, method="POST")
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(keyless, timeout=10)
        assert caught.value.code == 401
        with socket.create_connection(("127.0.0.1", port)) as client:  # hangs up mid-body
            client.sendall(b"POST /service-records HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n[{")
        time.sleep(0.5)
    finally:
        server.terminate()
        server.wait(timeout=10)
    logged = [json.loads(line) for line in log_path.read_text().splitlines() if line.startswith("{")]
    assert any(entry["message"] == f"listening on http://127.0.0.1:{port}" for entry in logged)
    access = [entry for entry in logged if entry["logger"] == "servicepipe.access"]
    accepted = [entry for entry in access if entry["status"] == 202]
    assert accepted and accepted[0]["submission_id"] == receipt["submission_id"]
    assert accepted[0]["method"] == "POST" and accepted[0]["path"] == "/service-records" and accepted[0]["ms"] >= 0
    assert any(entry["status"] == 400 for entry in access) and any(entry["status"] == 401 for entry in access)
    text = log_path.read_text()
    assert key not in text and key.split("_")[2] not in text  # no key in any log line
    assert "Budi" not in text and "Traceback" not in text and "Exception in ASGI application" not in text


def test_two_uploads_named_alike_are_both_processed_and_loaded(tmp_path) -> None:
    data = tmp_path / "data"
    first, second = tmp_path / "a" / "export.json", tmp_path / "b" / "export.json"
    for path, count, prefix in ((first, 200, "A"), (second, 10, "B")):
        path.parent.mkdir()
        path.write_bytes(orjson.dumps([a_record(f"{prefix}-{i}") for i in range(count)]))
    keys = [json.loads(cli(data, "upload", str(path)).stdout)["file_key"] for path in (first, second)]
    assert len(set(keys)) == 2
    cli(data, "worker", "--drain")
    cli(data, "load")
    counts = status(data)
    assert (counts["raw_files"], counts["processed_files"], counts["valid_rows"]) == (2, 2, 210)
    assert counts["loaded_records"] == 210


def _in_a_terminal(*args: str) -> str:
    """Run servicepipe with stdout and stderr on a pseudo-terminal; returns what it showed."""
    import os
    import pty

    main, child = pty.openpty()
    process = subprocess.Popen([SERVICEPIPE, *args], stdout=child, stderr=child)
    os.close(child)
    shown = b""
    while True:
        try:
            chunk = os.read(main, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        shown += chunk
    process.wait(timeout=120)
    os.close(main)
    return shown.decode()


def test_progress_shows_on_a_terminal_only(tmp_path) -> None:
    shown = _in_a_terminal("--data-dir", str(tmp_path / "tty"), "run", "--records", "300")
    assert "submitted 300 of 300 records" in shown and "files processed" in shown and "rows/s" in shown
    piped = cli(tmp_path / "piped", "run", "--records", "300")
    assert "files processed" not in piped.stdout + piped.stderr and "submitted" not in piped.stderr
    cli(tmp_path / "piped", "generate", "20", "--jsonl")
    status_json = cli(tmp_path / "piped", "status", "--json").stdout
    assert json.loads(status_json)["raw_files"] == 3  # --json output stays clean


def test_two_runs_in_a_row_add_up(tmp_path) -> None:
    first = cli(tmp_path, "run", "--records", "200").stdout
    second = cli(tmp_path, "run", "--records", "200").stdout
    assert "seed 42" in first and "repeat with --seed 42" in first
    for output in (first, second):
        loaded = int(output.split("loaded ")[1].split(" records")[0].replace(",", ""))
        grew = int(output.split("the database grew by ")[1].split(" records")[0].replace(",", ""))
        assert loaded == grew and loaded > 150
    grown = [int(output.split("grew by ")[1].split(" ")[0]) for output in (first, second)]
    assert status(tmp_path)["loaded_records"] == sum(grown)  # the second run's visits are new ones


@pytest.mark.parametrize("command", COMMANDS)
def test_every_argument_has_help_showing_its_default(tmp_path, command) -> None:
    shown = cli(tmp_path, command, "--help").stdout
    flat = " ".join(shown.split())
    assert "usage: servicepipe" in shown and "(default: None)" not in flat
    options = [line for line in shown.splitlines() if line.strip().startswith("--") and "--help" not in line]
    for line in options:
        assert len(line.split()) > 1, f"no help for {line.strip()}"
    if command == "serve":
        assert "(default: 127.0.0.1)" in flat and "(default: 8000)" in flat
    if command == "run":
        assert "(default: 1000)" in flat and "(default: 0.05)" in flat and "(default: 42)" in flat
    top = " ".join(cli(tmp_path, "--help").stdout.split())
    assert "DEBUG, INFO, WARNING, ERROR, CRITICAL" in top


def test_dealers_add_list_and_revoke_keys(tmp_path) -> None:
    added = cli(tmp_path, "dealers", "add", "DLR-JKT-001")
    key = added.stdout.strip()
    assert added.stdout == key + "\n" and key.startswith("sp_")  # the key alone, for `$(...)`
    key_id = key.split("_")[1]
    assert f"key {key_id} issued for dealer DLR-JKT-001" in added.stderr
    admin = cli(tmp_path, "dealers", "add", "--admin").stdout.strip()
    listed = json.loads(cli(tmp_path, "dealers", "list").stdout)
    assert [(e["dealer_id"], e["admin"], e["revoked_at"]) for e in listed] == [
        ("DLR-JKT-001", False, None),
        (None, True, None),
    ]
    stored = (tmp_path / "api_keys.sqlite").read_bytes()
    for secret in (key.split("_", 2)[2], admin.split("_", 2)[2]):
        assert secret.encode() not in stored and secret not in json.dumps(listed)  # hashes only
    assert cli(tmp_path, "dealers", "revoke", key_id).returncode == 0
    assert json.loads(cli(tmp_path, "dealers", "list").stdout)[0]["revoked_at"] is not None
    again = cli(tmp_path, "dealers", "revoke", key_id, ok=False)
    assert again.returncode == 1 and "no live key" in again.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["dealers", "add"], "give a DEALER_ID, or --admin"),
        (["dealers", "add", "D-1", "--admin"], "not both"),
        (["dealers", "add", "../etc/passwd"], "a dealer id is letters, digits"),
    ],
)
def test_dealers_add_refuses_unclear_requests(tmp_path, args, message) -> None:
    done = cli(tmp_path, *args, ok=False)
    assert done.returncode == 2 and message in done.stderr and done.stdout == ""
    assert not (tmp_path / "api_keys.sqlite").exists()


def test_status_of_one_submission(tmp_path) -> None:
    source = tmp_path / "batch.json"
    source.write_bytes(orjson.dumps([a_record("SR-1"), a_record("SR-2", {"vehicle.vin": "SHORT"})]))
    receipt = json.loads(cli(tmp_path / "d", "submit", str(source)).stdout)
    before = json.loads(cli(tmp_path / "d", "status", "--submission", receipt["submission_id"]).stdout)
    assert before["status"] == "received" and before["record_count"] == 2
    cli(tmp_path / "d", "worker", "--drain")
    after = json.loads(cli(tmp_path / "d", "status", "--submission", receipt["submission_id"]).stdout)
    assert (after["status"], after["valid_rows"], after["rejected_rows"]) == ("processed", 1, 1)
    assert after["rejected"][0]["service_record_id"] == "SR-2"
    missing = cli(tmp_path / "d", "status", "--submission", "0f0e0d0c-0000-4000-8000-00000000ffff", ok=False)
    assert missing.returncode == 1 and "no submission" in missing.stderr


def test_history_of_a_vehicle_after_a_load(tmp_path) -> None:
    vin = "MHFXX12G3K1234567"
    older = a_record("SR-OLD", {"vehicle.vin": vin, "service_details.service_date": "2026-01-10T09:00:00+07:00"})
    newer = a_record("SR-NEW", {"vehicle.vin": vin, "service_details.service_date": "2026-06-10T09:00:00+07:00"})
    source = tmp_path / "batch.json"
    source.write_bytes(orjson.dumps([older, newer, a_record("SR-ELSE", {"vehicle.vin": "MHFXX12G3K7654321"})]))
    cli(tmp_path / "d", "submit", str(source))
    cli(tmp_path / "d", "worker", "--drain")
    cli(tmp_path / "d", "load")
    page = json.loads(cli(tmp_path / "d", "history", vin.lower()).stdout)
    assert [r["service_record_id"] for r in page["records"]] == ["SR-NEW", "SR-OLD"] and page["next_page"] is None
    first = json.loads(cli(tmp_path / "d", "history", vin, "--limit", "1").stdout)
    second = json.loads(cli(tmp_path / "d", "history", vin, "--limit", "1", "--page", first["next_page"]).stdout)
    assert [first["records"][0]["service_record_id"], second["records"][0]["service_record_id"]] == ["SR-NEW", "SR-OLD"]
    bad = cli(tmp_path / "d", "history", vin, "--page", "nonsense", ok=False)
    assert bad.returncode == 2 and "page token" in bad.stderr


def test_insights_for_a_period_into_a_folder(tmp_path) -> None:
    cli(tmp_path / "d", "run", "--records", "200")
    out = tmp_path / "report"
    done = cli(tmp_path / "d", "insights", "--since", "2020-01-01", "--until", "2100-12-31", "--out", str(out))
    assert "service records analysed" in done.stdout and (out / "insights.html").exists()
    from application.analytics.insights import TABLES

    assert sorted(p.name for p in out.glob("*.csv")) == sorted(f"{name}.csv" for name in TABLES)
    backwards = cli(tmp_path / "d", "insights", "--since", "2026-12-01", "--until", "2026-01-01", ok=False)
    assert backwards.returncode == 2 and "is after" in backwards.stderr


def test_insights_reads_what_is_published_and_names_what_is_not(tmp_path) -> None:
    """The report reads the published tables: a file processed since the last publish is left
    out, and said so in one line, until publish commits it."""
    data = tmp_path / "d"
    cli(data, "run", "--records", "100", "--seed", "3")
    before = cli(data, "insights", "--out", str(tmp_path / "r1"))
    assert before.stderr == ""
    batch = tmp_path / "late.json"
    batch.write_bytes(orjson.dumps([a_record("SR-LATE-1"), a_record("SR-LATE-2")]))
    cli(data, "upload", str(batch))
    cli(data, "worker", "--drain")
    stale = cli(data, "insights", "--out", str(tmp_path / "r2"))
    day = next((data / "cleaned/manifests").iterdir()).name.removeprefix("date=")
    assert stale.stderr == (
        f"servicepipe insights: 1 processed date(s) not published yet ({day}) are left out of the report: "
        "run servicepipe publish, then insights again\n"
    )
    assert _analysed(stale.stdout) == _analysed(before.stdout)
    cli(data, "publish")
    fresh = cli(data, "insights", "--out", str(tmp_path / "r3"))
    assert fresh.stderr == "" and _analysed(fresh.stdout) == _analysed(before.stdout) + 2


def _analysed(stdout: str) -> int:
    (line,) = [line for line in stdout.splitlines() if line.endswith("service records analysed")]
    return int(line.split()[0].replace(",", ""))
