"""A fresh virtual environment holding one lock file and nothing else: what an image installs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def environment_of(lock: str, folder: Path) -> str:
    """The python of a new virtual environment in ``folder`` with ``lock`` installed alone."""
    subprocess.run([sys.executable, "-m", "venv", str(folder)], check=True)
    python = str(folder / "bin" / "python")
    install = [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-deps"]
    done = subprocess.run([*install, "-r", str(ROOT / lock)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    return python
