"""The Glue loader's import path: standard library and boto3 only, valid Python 3.9."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BASE_ARGS = ["job.py", "--DYNAMODB_TABLE_NAME", "t", "--SOURCE_BUCKET_NAME", "b"]


def loader_import_path() -> list[str]:
    done = subprocess.run(
        [sys.executable, str(ROOT / "infra/build_glue_bundle.py"), "--list"], cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout.split()


def test_the_loader_imports_without_our_heavy_dependencies() -> None:
    files = loader_import_path()
    assert str(ROOT / "entrypoints/loader/glue_load_to_dynamo.py") in files
    assert str(ROOT / "application/loading/load_batch.py") in files
    # Of the domain, only the record's identity (standard library only): no rules, no pandas.
    assert [f for f in files if "/domain/" in f] == [
        str(ROOT / "domain" / n) for n in ("__init__.py", "record_identity.py")
    ]


def test_the_loader_import_path_is_valid_python_3_9() -> None:
    files = loader_import_path()
    vermin = Path(sys.executable).parent / "vermin"
    done = subprocess.run(
        [str(vermin), "--target=3.9-", "--violations", "--no-tips", *files], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_vermin_would_catch_a_3_10_construct(tmp_path) -> None:
    sample = tmp_path / "new.py"
    sample.write_text("def f(x):\n    match x:\n        case 1:\n            return 1\n")
    vermin = Path(sys.executable).parent / "vermin"
    done = subprocess.run(
        [str(vermin), "--target=3.9-", "--violations", "--no-tips", str(sample)], capture_output=True, text=True
    )
    assert done.returncode != 0


def test_plain_argument_parsing_outside_glue() -> None:
    from entrypoints.loader.glue_load_to_dynamo import parse_arguments

    options = parse_arguments(
        [
            "job.py",
            "--DYNAMODB_TABLE_NAME",
            "t",
            "--SOURCE_BUCKET_NAME",
            "b",
            "--PROCESS_DATE",
            "2026-11-25",
            "--ENVIRONMENT_NAME",
            "prod",
            "--job-bookmark-option",
            "job-bookmark-disable",
        ]
    )
    assert options == {
        "DYNAMODB_TABLE_NAME": "t",
        "SOURCE_BUCKET_NAME": "b",
        "PROCESS_DATE": "2026-11-25",
        "ENVIRONMENT_NAME": "prod",
    }


def test_a_malformed_process_date_is_refused(capsys) -> None:
    import pytest

    from entrypoints.loader.glue_load_to_dynamo import parse_arguments

    with pytest.raises(SystemExit) as exit_:
        parse_arguments(
            ["job.py", "--DYNAMODB_TABLE_NAME", "t", "--SOURCE_BUCKET_NAME", "b", "--PROCESS_DATE", "25/11"]
        )
    assert exit_.value.code == 2 and "YYYY-MM-DD" in capsys.readouterr().err


def test_glue_resolved_options_are_used_when_awsglue_is_there(monkeypatch) -> None:
    import types

    from entrypoints.loader.glue_load_to_dynamo import parse_arguments

    calls = []

    def get_resolved_options(argv, names):
        calls.append(list(names))
        return {name: "2026-11-25" for name in names}

    utils = types.ModuleType("awsglue.utils")
    utils.getResolvedOptions = get_resolved_options
    monkeypatch.setitem(sys.modules, "awsglue", types.ModuleType("awsglue"))
    monkeypatch.setitem(sys.modules, "awsglue.utils", utils)
    parse_arguments(["job.py", "--DYNAMODB_TABLE_NAME", "t", "--SOURCE_BUCKET_NAME", "b"])
    parse_arguments(
        ["job.py", "--DYNAMODB_TABLE_NAME", "t", "--SOURCE_BUCKET_NAME", "b", "--PROCESS_DATE", "2026-11-25"]
    )
    assert calls == [
        ["DYNAMODB_TABLE_NAME", "SOURCE_BUCKET_NAME"],
        ["DYNAMODB_TABLE_NAME", "SOURCE_BUCKET_NAME", "PROCESS_DATE"],
    ]


def test_the_bundle_holds_the_loader_and_its_modules(tmp_path) -> None:
    import zipfile

    out = tmp_path / "glue.zip"
    subprocess.run(
        [sys.executable, str(ROOT / "infra/build_glue_bundle.py"), str(out)], cwd=ROOT, check=True, capture_output=True
    )
    names = zipfile.ZipFile(out).namelist()
    assert "entrypoints/loader/glue_load_to_dynamo.py" in names and "adapters/aws/dynamodb_repository.py" in names
    assert [n for n in names if n.startswith("domain/")] == ["domain/__init__.py", "domain/record_identity.py"]
