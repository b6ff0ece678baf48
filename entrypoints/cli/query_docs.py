"""Quote the report's SQL in docs/analytics.md, as the code holds it:
``python -m entrypoints.cli.query_docs docs/analytics.md`` (``make docs``).

The block between ``<!-- queries:begin -->`` and ``<!-- queries:end -->`` is rewritten from
``domain/insight_queries.py``; tests/unit/test_insight_queries.py fails while the two differ.
"""

from __future__ import annotations

import sys
from pathlib import Path

from domain.insight_queries import QUERIES

BEGIN, END = "<!-- queries:begin -->", "<!-- queries:end -->"


def quoted() -> str:
    """The queries as the docs show them: one SQL block each, under the report table's name."""
    parts = [BEGIN]
    for name, sql in QUERIES.items():
        parts.append(f"\n`{name}`:\n\n```sql\n{sql.rstrip()}\n```\n")
    parts.append(END)
    return "\n".join(parts)


def with_queries(text: str) -> str:
    """``text`` with its queries block rewritten."""
    start, end = text.index(BEGIN), text.index(END) + len(END)
    return text[:start] + quoted() + text[end:]


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m entrypoints.cli.query_docs docs/analytics.md", file=sys.stderr)
        return 2
    path = Path(argv[0])
    path.write_text(with_queries(path.read_text()))
    print(f"{path}: queries quoted from domain/insight_queries.py")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
