"""Whole-process measurements: the entrypoints run as production runs them, each a fresh
process, timed from outside, with the peak RSS the kernel reports for it (``wait4``)."""

from __future__ import annotations

import itertools
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parents[1]
SERVICEPIPE = str(Path(sys.executable).parent / "servicepipe")


def run(args: list[str]) -> dict:
    """Run ``args`` to the end: wall seconds and peak RSS (MiB) of that process alone."""
    with tempfile.TemporaryFile() as errors:
        started = time.perf_counter()
        child = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=errors)
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode != 0:
            errors.seek(0)
            raise SystemExit(f"{' '.join(args)} failed:\n{errors.read().decode()[-3000:]}")
    return {"seconds": seconds, "peak_rss_mib": usage.ru_maxrss / 1024}


def worker_on(path: Path | None) -> dict:
    """``servicepipe worker --drain`` on a fresh data folder holding ``path`` (or nothing)."""
    data = Path(tempfile.mkdtemp())
    try:
        if path is not None:
            subprocess.run([SERVICEPIPE, "--data-dir", str(data), "upload", str(path)], check=True, capture_output=True)
        return run([SERVICEPIPE, "--data-dir", str(data), "worker", "--drain"])
    finally:
        shutil.rmtree(data)


def processed(path: Path) -> Path:
    """A fresh data folder holding ``path`` processed by the worker (the caller removes it)."""
    data = Path(tempfile.mkdtemp())
    subprocess.run([SERVICEPIPE, "--data-dir", str(data), "upload", str(path)], check=True, capture_output=True)
    run([SERVICEPIPE, "--data-dir", str(data), "worker", "--drain"])
    return data


def processed_in_parts(path: Path, parts: int) -> Path:
    """A fresh data folder holding ``path``'s JSON Lines uploaded as ``parts`` raw files of
    one date, as a day of many submissions arrives, processed by the worker."""
    data, pieces = Path(tempfile.mkdtemp()), Path(tempfile.mkdtemp())
    try:
        # Streamed, never held whole: a child's peak RSS starts at its parent's (Linux keeps
        # the high-water mark across fork and exec), so a big parent would inflate every figure.
        with path.open("rb") as source:
            total = sum(1 for _ in source)
            source.seek(0)
            size = -(-total // parts)
            for number in range(parts):
                piece = pieces / f"part-{number:04d}.jsonl"
                with piece.open("wb") as sink:
                    sink.writelines(itertools.islice(source, size))
                upload = [SERVICEPIPE, "--data-dir", str(data), "upload", str(piece)]
                subprocess.run(upload, check=True, capture_output=True)
        run([SERVICEPIPE, "--data-dir", str(data), "worker", "--drain"])
    finally:
        shutil.rmtree(pieces)
    return data


def median_of(runs: int, measure) -> dict:  # type: ignore[no-untyped-def]
    """The run of median seconds, with the largest peak RSS of all runs."""
    results = sorted((measure() for _ in range(runs)), key=lambda r: r["seconds"])
    median = dict(results[len(results) // 2])
    median["peak_rss_mib"] = max(r["peak_rss_mib"] for r in results)
    median["all_seconds"] = [r["seconds"] for r in results]
    return median


class Paired(NamedTuple):
    """A command measured in turn with its yardstick."""

    ratio: float  # the median of the pairs' time ratios
    seconds: float  # the command's median
    baseline_seconds: float  # the yardstick's median
    peak_rss_mib: float  # the command's largest peak


def paired_ratio(command: list[str], baseline: list[str], runs: int) -> Paired:
    """``command`` and ``baseline`` run in turn, each fresh (pairing keeps the ratio fair
    while the machine's speed drifts)."""
    ratios, mine, theirs, peaks = [], [], [], []
    for _ in range(runs):
        done = run(command)
        mine.append(done["seconds"])
        peaks.append(done["peak_rss_mib"])
        theirs.append(run(baseline)["seconds"])
        ratios.append(mine[-1] / theirs[-1])
    return Paired(statistics.median(ratios), statistics.median(mine), statistics.median(theirs), max(peaks))


def data_folder_with_one_submission() -> Path:
    """A fresh local data folder holding one submitted record, processed (an empty queue)."""
    data = Path(tempfile.mkdtemp())
    sample = data / "one.json"
    with open(sample, "wb") as out:
        subprocess.run([SERVICEPIPE, "generate", "1", "--seed", "1"], stdout=out, check=True)
    for args in (["submit", str(sample)], ["worker", "--drain"]):
        subprocess.run([SERVICEPIPE, "--data-dir", str(data), *args], check=True, capture_output=True)
    return data


EMPTY_RECEIVE = """
import sys, time
from adapters.local.sqlite_queue import SqliteQueue
from entrypoints.worker.loop import DRAIN_POLL_SECONDS
queue = SqliteQueue(sys.argv[1])
started = time.perf_counter()
assert queue.receive(1, DRAIN_POLL_SECONDS) == []
print(time.perf_counter() - started)
"""


def empty_receive_seconds(data: Path) -> float:
    """One receive on the empty local queue, as the drain's last one waits (its long poll)."""
    done = subprocess.run(
        [sys.executable, "-c", EMPTY_RECEIVE, str(data / "queue.sqlite")], cwd=ROOT, capture_output=True, text=True
    )
    return float(done.stdout.strip())
