"""Write the API's OpenAPI document: ``make openapi`` (``python -m entrypoints.api.openapi_file
docs/openapi.json``).

The committed copy is what integrators generate clients from and what a change to the API is
reviewed against; tests/unit/test_api_contract.py fails while it differs from what the app
serves, naming this command.
"""

from __future__ import annotations

import sys
from typing import Any

from entrypoints.api.http_app import create_app
from entrypoints.api.openapi_docs import rendered

COMMAND = "make openapi"


def documented_app() -> Any:
    """The app with every route; its use-cases are never built (the document needs none)."""

    def unused() -> Any:
        raise AssertionError("the document needs no use-case")

    return create_app(unused, unused, unused, unused, unused, unused, unused).app


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m entrypoints.api.openapi_file docs/openapi.json", file=sys.stderr)
        return 2
    with open(argv[0], "w", encoding="utf-8") as out:
        out.write(rendered(documented_app()))
    print(f"{argv[0]} written")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
