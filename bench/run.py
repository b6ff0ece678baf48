"""``make bench``: generate fixed-seed data, measure every target, print one table.

Each figure is the median of several runs, each run in a fresh process. Speed figures are
also given as ratios to a baseline measured in the same invocation: pyarrow alone reading
the same JSONL, flattening it and writing Parquet.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

from bench.processes import Paired

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "bench" / ".data"
SERVICEPIPE = str(Path(sys.executable).parent / "servicepipe")
RUNS = int(os.environ.get("BENCH_RUNS", "3"))
BIG_RUNS = int(os.environ.get("BENCH_BIG_RUNS", "1"))
BIG = int(os.environ.get("BENCH_BIG_RECORDS", "1000000"))


def dataset(records: int, jsonl: bool) -> Path:
    """Sample data from ``servicepipe generate`` (seed 42, 5% invalid), cached per day."""
    DATA.mkdir(parents=True, exist_ok=True)
    path = DATA / f"{datetime.date.today()}-{records}.{'jsonl' if jsonl else 'json'}"
    if not path.exists():
        args = [SERVICEPIPE, "generate", str(records), "--seed", "42", "--bad-fraction", "0.05"]
        with open(path.with_suffix(".tmp"), "wb") as out:
            subprocess.run(args + (["--jsonl"] if jsonl else []), stdout=out, check=True)
        path.with_suffix(".tmp").rename(path)
    return path


def measure(case: str, *args: object, runs: int = RUNS) -> dict:
    """The median run of a case (by seconds), with the largest peak RSS seen."""
    results = []
    for _ in range(runs):
        done = subprocess.run(
            [sys.executable, "-m", "bench.measure", case, *map(str, args)], cwd=ROOT, capture_output=True, text=True
        )
        if done.returncode != 0:
            raise SystemExit(f"{case} failed:\n{done.stderr}")
        results.append(json.loads(done.stdout.strip().splitlines()[-1]))
    results.sort(key=lambda r: r["seconds"])
    median = dict(results[len(results) // 2])
    median["peak_rss_mib"] = max(r["peak_rss_mib"] for r in results)
    median["runs"] = runs
    return median


def whole_processes(
    base: dict, small_jsonl: Path, big_jsonl: Path, empty: Paired
) -> list[tuple[str, str, str, str, str]]:
    """The worker's figures as whole processes, each fresh; ``empty`` is its run on an empty
    queue (from ``start_up``), subtracted from its run on a file."""
    from bench.processes import median_of, worker_on

    out = []

    def row(what: str, figure: str, target: str, met: bool, note: str = "") -> None:
        out.append((f"[process] {what}", figure, target, "yes" if met else "NO", note))

    small = median_of(RUNS, lambda: worker_on(small_jsonl))
    ratio = (small["seconds"] - empty.seconds) / base["seconds"]
    row("worker --drain, 100k JSONL, minus empty", f"{ratio:.2f}x baseline", "<= 2x", ratio <= 2)
    one = median_of(BIG_RUNS, lambda: worker_on(big_jsonl))
    peak = one["peak_rss_mib"]
    row(f"worker --drain, {BIG:,} JSONL", f"{peak:.0f} MiB peak", "<= 400 MiB", peak <= 400, f"{one['seconds']:.1f} s")
    two = median_of(BIG_RUNS, lambda: worker_on(dataset(2 * BIG, True)))
    growth = two["peak_rss_mib"] / one["peak_rss_mib"] - 1
    row(
        f"worker --drain, {2 * BIG:,} JSONL",
        f"{two['peak_rss_mib']:.0f} MiB peak",
        "within 10% of the above",
        abs(growth) <= 0.10,
        f"{growth:+.1%}",
    )
    return out


def start_up() -> tuple[list[tuple[str, str, str, str, str]], Paired]:
    """What every command pays before it does anything, as ratios to importing what it needs
    anyway (boto3 and pydantic; for the API, FastAPI and Mangum too), pairs run in turn.
    Also returns the empty ``worker --drain``'s measurement, which ``whole_processes`` uses."""
    from bench.processes import data_folder_with_one_submission, empty_receive_seconds, paired_ratio

    out = []
    runs = max(RUNS, 7)
    python = sys.executable
    needs = [python, "-c", "import boto3, pydantic"]
    data = data_folder_with_one_submission()
    cli = [SERVICEPIPE, "--data-dir", str(data)]

    def row(what: str, paired: Paired, target: float, yardstick: str) -> None:
        met = "yes" if paired.ratio <= target else "NO"
        note = f"{paired.seconds:.2f} s vs {paired.baseline_seconds:.2f} s for {yardstick}"
        out.append((f"[process] {what}", f"{paired.ratio:.2f}x", f"<= {target}x", met, note))

    for what, args in (("servicepipe --help", ["--help"]), ("servicepipe status --json", ["status", "--json"])):
        row(what, paired_ratio([*cli, *args], needs, runs), 1.5, "import boto3, pydantic")
    # The handler imports boto3 when its first request builds the AWS adapters: counted here.
    api = [python, "-c", "import entrypoints.api.lambda_handler, boto3"]
    api_needs = [python, "-c", "import fastapi, mangum, boto3, pydantic"]
    row(
        "API cold import (lambda_handler, boto3)",
        paired_ratio(api, api_needs, runs),
        1.2,
        "fastapi, mangum, boto3, pydantic",
    )
    receive = empty_receive_seconds(data)
    empty = paired_ratio([*cli, "worker", "--drain"], needs, runs)
    allowed = 1.5 * empty.baseline_seconds + receive
    out.append(
        (
            "[process] worker --drain, empty queue",
            f"{empty.seconds:.2f} s",
            f"<= {allowed:.2f} s",
            "yes" if empty.seconds <= allowed else "NO",
            f"1.5x import boto3, pydantic ({empty.baseline_seconds:.2f} s) + one empty receive ({receive:.2f} s);"
            f" {empty.peak_rss_mib:.0f} MiB peak",
        )
    )
    return out, empty


def insights(big_jsonl: Path) -> list[tuple[str, str, str, str, str]]:
    """``servicepipe insights`` over the published tables of ``big_jsonl``, paired with a
    DuckDB script running the same SQL over the same files."""
    import shutil
    import tempfile

    from bench.processes import paired_ratio, processed, run

    data, out = processed(big_jsonl), Path(tempfile.mkdtemp())
    try:
        run([SERVICEPIPE, "--data-dir", str(data), "publish"])  # the report reads the published tables
        command = [SERVICEPIPE, "--data-dir", str(data), "insights", "--out", str(out)]
        paired = paired_ratio(command, [sys.executable, "-m", "bench.duckdb_baseline", str(data)], RUNS)
    finally:
        shutil.rmtree(data)
        shutil.rmtree(out)
    peak, timed = paired.peak_rss_mib, f"{paired.seconds:.1f} s vs {paired.baseline_seconds:.1f} s"
    return [
        (
            f"[process] insights, {BIG:,} records",
            f"{paired.ratio:.2f}x",
            "<= 1.5x DuckDB",
            _met(paired.ratio <= 1.5),
            timed,
        ),
        ("  ... its peak RSS", f"{peak:,.0f} MiB", "<= 1,024 MiB", _met(peak <= 1024), ""),
    ]


PUBLISH_PARTS = 100
MIN_FILE_MIB, MAX_FILES = 64, 4


def publishing(big_jsonl: Path) -> list[tuple[str, str, str, str, str]]:
    """``servicepipe publish`` of a date of ``BIG`` records that came in ``PUBLISH_PARTS`` raw
    files: its time and peak, and the files each table's date ends in."""
    import shutil

    from bench.processes import processed_in_parts, run
    from domain.analytics_tables import BY_DATE

    data = processed_in_parts(big_jsonl, PUBLISH_PARTS)
    try:
        done = run([SERVICEPIPE, "--data-dir", str(data), "publish"])
        tables = data / "cleaned" / "iceberg" / "servicepipe"
        sizes = {name: [f.stat().st_size / 2**20 for f in (tables / name).rglob("*.parquet")] for name in BY_DATE}
    finally:
        shutil.rmtree(data)
    # Every file of a table's date but its last at least the minimum: the last holds what is left.
    fits = all(len(mib) <= MAX_FILES and all(m >= MIN_FILE_MIB for m in sorted(mib)[1:]) for mib in sizes.values())
    fact, peak = sizes["fact_service_records"], done["peak_rss_mib"]
    detail = ", ".join(f"{name} {len(mib)} ({sum(mib):,.1f} MiB)" for name, mib in sizes.items() if mib)
    return [
        (
            f"[process] publish, {BIG:,} records from {PUBLISH_PARTS} files",
            f"{done['seconds']:.1f} s",
            "-",
            "-",
            f"facts: {len(fact)} file of {sum(fact):,.1f} MiB",
        ),
        (
            "  ... files per table and date",
            f"{max(len(mib) for mib in sizes.values())} at most",
            f"<= {MAX_FILES}, all but the last >= {MIN_FILE_MIB} MiB",
            _met(fits),
            detail,
        ),
        ("  ... its peak RSS", f"{peak:,.0f} MiB", "<= 1,024 MiB", _met(peak <= 1024), ""),
    ]


def _met(met: bool) -> str:
    return "yes" if met else "NO"


def main() -> int:
    if sys.argv[1:] == ["--start-up"]:  # the start-up rows alone: seconds, not the big files' minutes
        return _print(start_up()[0])
    if sys.argv[1:] == ["--insights"]:  # the insights row alone
        return _print(insights(dataset(BIG, True)))
    if sys.argv[1:] == ["--publish"]:  # the publish rows alone
        return _print(publishing(dataset(BIG, True)))
    if sys.argv[1:] == ["--erasure"]:  # the forget rows alone
        from bench.erasure import erasure

        return _print(erasure(dataset(BIG, True)))
    small_jsonl, small_array = dataset(100_000, True), dataset(100_000, False)
    big_jsonl, big_array = dataset(BIG, True), dataset(BIG, False)

    base = measure("baseline", small_jsonl)
    rows = []

    def row(what: str, figure: str, target: str, met: bool, note: str = "") -> None:
        rows.append((what, figure, target, "yes" if met else "NO", note))

    def rate(result: dict) -> float:
        return result["count"] / result["seconds"]

    rows.append(
        (
            "pyarrow baseline, 100k JSONL",
            f"{rate(base):,.0f} rec/s ({base['seconds']:.2f} s)",
            "-",
            "-",
            "read + flatten + Parquet",
        )
    )
    jsonl = measure("process", small_jsonl)
    ratio = jsonl["seconds"] / base["seconds"]
    row(
        "ProcessRawFile, 100k JSONL",
        f"{rate(jsonl):,.0f} rec/s",
        ">= 100,000 rec/s",
        rate(jsonl) >= 100_000,
        f"{ratio:.2f}x baseline time",
    )
    row("  ... vs baseline", f"{ratio:.2f}x", "<= 3x", ratio <= 3)
    array = measure("process", small_array)
    row(
        "ProcessRawFile, 100k JSON array",
        f"{rate(array):,.0f} rec/s",
        ">= 60,000 rec/s",
        rate(array) >= 60_000,
        f"{array['seconds'] / base['seconds']:.2f}x baseline time",
    )
    for label, path in ((f"JSONL ({big_jsonl.stat().st_size / 2**20:,.0f} MiB)", big_jsonl), ("JSON array", big_array)):
        big = measure("process", path, runs=BIG_RUNS)
        row(
            f"{BIG:,}-record {label}",
            f"{big['peak_rss_mib']:,.0f} MiB peak",
            "<= 400 MiB",
            big["peak_rss_mib"] <= 400,
            f"{rate(big):,.0f} rec/s",
        )
    small = measure("small-files", 1000, 10)
    row("1,000 files x 10 records, worker --drain", f"{rate(small):,.0f} files/s", ">= 100 files/s", rate(small) >= 100)
    slow = measure("small-files", 200, 10, 0.02, runs=1)
    row(
        "200 files x 10 records, 20 ms per store call",
        f"{rate(slow):,.1f} files/s",
        ">= 20 files/s",
        rate(slow) >= 20,
        "one worker process",
    )
    submit = measure("submit", 500, 200, runs=1)
    row(
        "SubmitRecord + HTTP app, 500 records",
        f"p99 {submit['p99_ms']:.1f} ms",
        "< 50 ms",
        submit["p99_ms"] < 50,
        f"p50 {submit['p50_ms']:.1f} ms, in-memory store",
    )
    load = measure("load-slow", 100_000, runs=1)
    row(
        "LoadBatch, 100k records, stub 20 ms per call",
        f"{rate(load):,.0f} items/s",
        ">= 10,000 items/s",
        rate(load) >= 10_000 and load["calls"] == load["expected_calls"],
        f"{load['calls']:,} TransactWriteItems (= ceil(N/100)), {load['most_in_flight']} in flight",
    )
    real = measure("load-botocore", 20_000, runs=1)
    rows.append(("  ... through botocore", f"{rate(real):,.0f} items/s", "-", "-", "serialising and signing counted"))
    start_up_rows, empty = start_up()
    rows.extend(whole_processes(base, small_jsonl, big_jsonl, empty))
    rows.extend(insights(big_jsonl))
    rows.extend(publishing(big_jsonl))
    from bench.erasure import erasure

    rows.extend(erasure(big_jsonl))
    rows.extend(start_up_rows)
    return _print(rows)


def _print(rows: list[tuple[str, str, str, str, str]]) -> int:
    print(
        f"servicepipe benchmarks, {datetime.date.today()}, {platform.machine()} {os.cpu_count()} cores, "
        f"Python {platform.python_version()}; medians of {RUNS} runs ({BIG_RUNS} for the big files)"
    )
    widths = [max(len(str(r[i])) for r in rows + [("what", "figure", "target", "met", "note")]) for i in range(5)]
    for r in [("what", "figure", "target", "met", "note"), *rows]:
        print(" | ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)))
    return 0 if all(r[3] in ("yes", "-") for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
