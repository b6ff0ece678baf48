"""Bounds every record must stay within, through the API and the worker alike.

They keep one record within what every store downstream takes (a DynamoDB item is at most
400 KB; its numbers have at most 38 digits), and keep one bad record from costing more than
its own row.
"""

from __future__ import annotations

MAX_RECORD_BYTES = 128 * 1024  # one record, as compact JSON
# A line of a bulk file longer than this is rejected unread, whatever its content (only
# whitespace could make a record that long and still small enough).
MAX_LINE_BYTES = 1024 * 1024
MAX_LINE_ITEMS = 1_000  # entries of services_performed, and of parts_used, in one record
MAX_COST = 1_000_000_000_000  # IDR, per cost field
MAX_PART_QUANTITY = 100_000
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
MAX_RECORDS_PER_SUBMISSION = 10_000  # about 6 MB of typical records; upload a bulk file for more
MAX_LISTED_PROBLEMS = 100  # problems listed in one 422; the rest are counted

# C0 controls and DEL, except tab, line feed and carriage return (which free text may hold);
# escapes, not the characters, so that Python's re and Arrow's RE2 both take the pattern.
CONTROL_CHARACTERS = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]"
