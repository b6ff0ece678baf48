"""The gate of a worker's lanes: small files share a byte budget, a big file runs alone."""

from __future__ import annotations

import threading
import time

from entrypoints.worker.file_gate import FileGate

KB = 1024


def hold(gate: FileGate, size: int | None, seconds: float, log: list[str], name: str) -> threading.Thread:
    def run() -> None:
        with gate.admit(size):
            log.append(f"+{name}")
            time.sleep(seconds)
            log.append(f"-{name}")

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_small_files_run_together_within_the_budget() -> None:
    gate, log = FileGate(small_file_bytes=512 * KB, budget=1024 * KB), []
    threads = [hold(gate, 8 * KB, 0.2, log, f"s{i}") for i in range(8)]
    for thread in threads:
        thread.join()
    assert log[:8] == sorted(log[:8]) and all(entry.startswith("+") for entry in log[:8])  # all eight at once

    log.clear()
    threads = [hold(gate, 400 * KB, 0.2, log, f"m{i}") for i in range(3)]
    for thread in threads:
        thread.join()
    assert [entry[0] for entry in log[:3]] == ["+", "+", "-"]  # two fit, the third waits


def test_a_big_file_waits_for_the_small_ones_runs_alone_and_stops_receiving() -> None:
    gate, log = FileGate(small_file_bytes=512 * KB), []
    small = hold(gate, 8 * KB, 0.3, log, "small")
    time.sleep(0.05)
    big = hold(gate, 10 * 1024 * KB, 0.3, log, "big")
    time.sleep(0.05)
    assert gate.wait_to_receive(timeout=0.05) is False  # no new message while a big one waits
    late = hold(gate, 8 * KB, 0.1, log, "late")
    for thread in (small, big, late):
        thread.join()
    assert log == ["+small", "-small", "+big", "-big", "+late", "-late"]
    assert gate.wait_to_receive(timeout=0) is True


def test_a_file_of_unknown_size_counts_as_big() -> None:
    gate, log = FileGate(), []
    unknown = hold(gate, None, 0.2, log, "unknown")
    time.sleep(0.05)
    small = hold(gate, 1 * KB, 0.1, log, "small")
    for thread in (unknown, small):
        thread.join()
    assert log == ["+unknown", "-unknown", "+small", "-small"]
