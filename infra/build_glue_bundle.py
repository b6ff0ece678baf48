"""Build the Glue Python shell bundle: exactly the modules the loader imports, as a zip.

    python infra/build_glue_bundle.py dist/servicepipe-glue.zip   # the bundle
    python infra/build_glue_bundle.py --list                      # the files it holds

Glue runs ``entrypoints/loader/glue_load_to_dynamo.py`` as the job script with this zip in
``--extra-py-files``. The loader's imports are found by importing it with every dependency
Glue lacks made unimportable, so a stray import fails here rather than in Glue.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOT_ON_GLUE = [
    "pandas", "pyarrow", "pydantic", "pandera", "numpy", "orjson", "polars",
    "dependency_injector", "fastapi", "mangum", "uvicorn", "starlette",
]  # fmt: skip
_PROBE = """
import json, sys
for name in {blocked!r}:
    sys.modules[name] = None
import entrypoints.loader.glue_load_to_dynamo
files = {{m.__file__ for m in list(sys.modules.values()) if getattr(m, "__file__", None)}}
print(json.dumps(sorted(f for f in files if f.startswith({root!r}) and "/.venv/" not in f)))
"""


def loader_files() -> list[Path]:
    """Project files the loader imports; fails if it needs anything Glue does not have."""
    probe = _PROBE.format(blocked=NOT_ON_GLUE, root=str(ROOT))
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"the Glue loader imports something Glue does not have:\n{done.stderr}")
    return [Path(f) for f in json.loads(done.stdout)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("output", nargs="?", type=Path, default=ROOT / "dist" / "servicepipe-glue.zip")
    parser.add_argument("--list", action="store_true", help="print the files instead of zipping them")
    args = parser.parse_args()
    files = loader_files()
    if args.list:
        print("\n".join(str(f) for f in files))
        return 0
    args.output.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(args.output, "w", zipfile.ZIP_DEFLATED) as bundle:
        for path in files:
            bundle.write(path, path.relative_to(ROOT).as_posix())
    print(f"{args.output}: {len(files)} modules")
    return 0


if __name__ == "__main__":
    sys.exit(main())
