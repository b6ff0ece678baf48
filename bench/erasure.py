"""``servicepipe forget`` measured: 1,000 raw files of 1,000 records, one customer in 3 of them.

Targets (issue 22): it rewrites those 3 raw files and no others, and takes at most 5% of the
time a full reprocess of the 1,000 files takes (``replay`` then ``worker --drain``, whole
processes); the same request again changes nothing and says so.

``python -m bench.erasure prepare DATA JSONL FILES`` writes the files into a data folder in one
process (the upload use-case, as ``servicepipe upload`` runs it), the customer planted in three.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import shutil
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

from bench.processes import run

SERVICEPIPE = str(Path(sys.executable).parent / "servicepipe")
FILES = 1000
PLANTED_IN = (7, 420, 888)
DEALER = {"dealer_id": "DLR-JKT-001", "dealer_name": "Astra Motor Sunter", "dealer_location": "Jakarta"}
CUSTOMER = {"customer_id": "CUST-BENCH-0001", "customer_name": "Siti Bench Rahmawati"}
TARGET_SHARE = 0.05


def prepare(data: Path, jsonl: Path, files: int) -> None:
    """``jsonl`` split into ``files`` raw files in ``data``, the customer in ``PLANTED_IN``."""
    from entrypoints.container import build_container
    from entrypoints.settings import Settings

    container = build_container(Settings(data_dir=str(data)))
    upload = container.raw_store()
    with jsonl.open("rb") as source:
        total = sum(1 for _ in source)
        source.seek(0)
        size = -(-total // files)
        for number in range(files):
            lines = list(itertools.islice(source, size))
            if number in PLANTED_IN:
                record = json.loads(lines[0])
                record["dealer"], record["customer"] = DEALER, CUSTOMER
                lines[0] = json.dumps(record).encode() + b"\n"
            now = datetime.now(timezone.utc)
            key = f"service-records/date={now:%Y-%m-%d}/{now:%H-%M-%S}_part-{number:04d}.jsonl"
            upload.put_bytes(key, b"".join(lines), {"ingested-at": now.isoformat(), "submission-id": f"part-{number}"})


def _digests(data: Path) -> dict[str, str]:
    raw = data / "raw" / "service-records"
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(raw.rglob("*")) if p.is_file()}


def _audit(data: Path) -> dict:
    (entry,) = sorted((data / "raw" / "erasures").glob("*.json"), key=lambda p: p.stat().st_mtime)[-1:]
    return json.loads(entry.read_text())


def erasure(big_jsonl: Path) -> list[tuple[str, str, str, str, str]]:
    data = Path(tempfile.mkdtemp())
    try:
        run([sys.executable, "-m", "bench.erasure", "prepare", str(data), str(big_jsonl), str(FILES)])
        for step in (["worker", "--drain"], ["load"], ["publish"]):
            run([SERVICEPIPE, "--data-dir", str(data), *step])
        today = datetime.now(timezone.utc).date().isoformat()
        replay = run([SERVICEPIPE, "--data-dir", str(data), "replay", "--date", today])
        drain = run([SERVICEPIPE, "--data-dir", str(data), "worker", "--drain"])
        reprocess = replay["seconds"] + drain["seconds"]
        before = _digests(data)
        forget = [SERVICEPIPE, "--data-dir", str(data), "forget", "--dealer", DEALER["dealer_id"]]
        first = run([*forget, "--customer", CUSTOMER["customer_id"]])
        audit = _audit(data)
        after = _digests(data)
        rewritten = sorted(key for key in before if before[key] != after.get(key))
        again = run([*forget, "--customer", CUSTOMER["customer_id"]])
        second = _audit(data)
        unchanged = _digests(data) == after and second["status"] == "nothing_held"
    finally:
        shutil.rmtree(data)
    share = first["seconds"] / reprocess
    listed = audit["changed"]["raw"]["files_rewritten"]
    return [
        (
            f"[process] forget, 1 customer in 3 of {FILES:,} raw files",
            f"{len(rewritten)} raw files rewritten",
            "= 3",
            _met(len(rewritten) == 3 and len(listed) == 3 and audit["status"] == "erased"),
            f"+ {len(audit['changed']['cleaned']['files_rewritten'])} cleaned, "
            f"{len(audit['changed']['errors']['files_rewritten'])} error files; "
            f"{audit['changed']['analytics']['rows_erased']} analytics rows",
        ),
        (
            "  ... its time vs a full reprocess",
            f"{share:.1%}",
            f"<= {TARGET_SHARE:.0%}",
            _met(share <= TARGET_SHARE),
            f"{first['seconds']:.1f} s vs {reprocess:.1f} s (replay {replay['seconds']:.1f} s + worker --drain "
            f"{drain['seconds']:.1f} s), {first['peak_rss_mib']:,.0f} MiB peak",
        ),
        (
            "  ... the same request again",
            second["status"],
            "nothing_held, nothing changed",
            _met(unchanged),
            f"{again['seconds']:.1f} s",
        ),
    ]


def _met(met: bool) -> str:
    return "yes" if met else "NO"


if __name__ == "__main__" and sys.argv[1:2] == ["prepare"]:
    prepare(Path(sys.argv[2]), Path(sys.argv[3]), int(sys.argv[4]))
