"""Arrow's allocator is the system's, whether pyarrow is imported before or after the
setting: the light commands never import it, the worker imports it when it starts work."""

from __future__ import annotations

import subprocess
import sys

import pytest

BEFORE = "from entrypoints.memory import use_system_allocator; use_system_allocator(); import pyarrow as pa"
AFTER = "import pyarrow as pa; from entrypoints.memory import use_system_allocator; use_system_allocator()"


@pytest.mark.parametrize("order", [BEFORE, AFTER], ids=["set-before-import", "set-after-import"])
def test_arrow_allocates_with_the_system_allocator(order) -> None:
    probe = f"{order}; import sys; print(pa.default_memory_pool().backend_name)"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "system"
