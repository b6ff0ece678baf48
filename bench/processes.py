"""Whole-process measurements: the entrypoints run as production runs them, each a fresh
process, timed from outside, with the peak RSS the kernel reports for it (``wait4``)."""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

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


def median_of(runs: int, measure) -> dict:  # type: ignore[no-untyped-def]
    """The run of median seconds, with the largest peak RSS of all runs."""
    results = sorted((measure() for _ in range(runs)), key=lambda r: r["seconds"])
    median = dict(results[len(results) // 2])
    median["peak_rss_mib"] = max(r["peak_rss_mib"] for r in results)
    median["all_seconds"] = [r["seconds"] for r in results]
    return median


def import_seconds(statement: str, runs: int) -> float:
    """Median wall time of ``python -c statement`` in fresh processes."""
    return statistics.median(run([sys.executable, "-c", statement])["seconds"] for _ in range(runs))
