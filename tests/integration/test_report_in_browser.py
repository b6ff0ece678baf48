"""The insights report from `servicepipe run`'s data, opened in a real headless Chromium with
the network cut off: every chart is there and drawn, the console stays silent, and a
screenshot is saved to look at (.test-artifacts/insights-report.png)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from application.analytics.insights import TABLES

ROOT = Path(__file__).resolve().parents[2]
SERVICEPIPE = str(Path(sys.executable).parent / "servicepipe")
WINDOW = (1200, 7000)  # px: the whole report fits (tests below hold it to that)
ARTIFACTS = ROOT / ".test-artifacts"
pytestmark = pytest.mark.slow


def chromium(*args: str) -> subprocess.CompletedProcess[str]:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    assert browser, "Chromium is missing: `make test` installs Debian's chromium package"
    offline = ["--proxy-server=http://127.0.0.1:9", "--proxy-bypass-list=<-loopback>"]  # every fetch fails
    command = [browser, "--headless", "--no-sandbox", "--disable-gpu", *offline, "--enable-logging=stderr", "--v=0"]
    return subprocess.run([*command, *args], capture_output=True, text=True, timeout=120)


def test_the_network_is_really_cut_off(tmp_path) -> None:
    page = tmp_path / "probe.html"
    page.write_text(
        '<html><head><title>waiting</title></head><body><img src="http://example.com/x.png" '
        "onerror=\"document.title='offline'\" onload=\"document.title='online'\"></body></html>"
    )
    dom = chromium("--virtual-time-budget=5000", "--dump-dom", page.as_uri()).stdout
    assert "<title>offline</title>" in dom


def test_the_report_draws_every_chart_offline_without_console_errors(tmp_path) -> None:
    data = tmp_path / "data"
    run = [SERVICEPIPE, "--data-dir", str(data), "run", "--records", "600"]
    done = subprocess.run(run, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    report = data / "insights" / "insights.html"
    opened = chromium("--dump-dom", report.as_uri())
    assert opened.returncode == 0, opened.stderr[-2000:]
    assert "CONSOLE" not in opened.stderr, [line for line in opened.stderr.splitlines() if "CONSOLE" in line]
    dom = opened.stdout
    charts = re.findall(r'<(svg|p) [^>]*data-chart="([a-z_]+)"', dom)
    assert len(charts) == 6
    drawn = dict(re.findall(r'<svg data-chart="([a-z_]+)"(.*?)</svg>', dom, flags=re.S))
    assert set(drawn) >= set(TABLES) - {"repeat_repairs"}  # a random sample may have no repeat to draw
    for name, svg in drawn.items():
        if name == "part_usage_by_month":
            assert svg.count("<polyline") == 5, name  # a line per most used part
        else:
            assert svg.count("<rect") >= 1, name  # bars drawn
    # The whole page in one picture: taller than what it draws (charts, table rows, headings).
    heights = sum(int(h) for h in re.findall(r'<svg data-chart="[a-z_]+"[^>]* height="(\d+)"', dom))
    assert heights + dom.count("<tr>") * 24 + len(TABLES) * 150 < WINDOW[1]
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "insights-report.png"
    taken = chromium(f"--window-size={WINDOW[0]},{WINDOW[1]}", f"--screenshot={shot}", report.as_uri())
    assert taken.returncode == 0 and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000
