"""infra/template.yaml is sized as docs/performance.md measures (issue 19, item 6)."""

from __future__ import annotations

import re
from pathlib import Path

from cfnlint.decode import cfn_yaml

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "infra" / "template.yaml"
PERFORMANCE = ROOT / "docs" / "performance.md"


def test_the_worker_task_has_twice_its_measured_peak() -> None:
    """The largest peak docs/performance.md reports for `worker --drain` (1 and 2 million
    records), doubled, fits the task: room for wider rows and for small files held together."""
    task = cfn_yaml.load(str(TEMPLATE))["Resources"]["WorkerTaskDefinition"]["Properties"]
    peaks = [
        int(m)
        for m in re.findall(r"\[process\] worker --drain, [0-9,]+ JSONL \| (\d+) MiB peak", PERFORMANCE.read_text())
    ]
    assert peaks, "docs/performance.md lists no worker peak"
    assert int(task["Memory"]) >= 2 * max(peaks)


def test_the_loader_runs_at_the_capacity_the_estimates_assume() -> None:
    template = cfn_yaml.load(str(TEMPLATE))
    job = template["Resources"]["LoaderJob"]["Properties"]
    assert job["MaxCapacity"] == {"Ref": "LoaderCapacity"}
    capacity = template["Parameters"]["LoaderCapacity"]
    assert capacity["Default"] == 1 and capacity["AllowedValues"] == [0.0625, 1]  # Python shell's two sizes
    assert "Glue at 1 DPU, the template's default `LoaderCapacity`" in PERFORMANCE.read_text()
    assert job["Timeout"] >= 6.5 * 60  # minutes: a 100-million-record day at the measured rate
