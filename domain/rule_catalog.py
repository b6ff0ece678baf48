"""Every rule a record can break: a stable name (reported with each rejected row and in the
API's problems) and what it means. No pandas here: the API imports this."""

from __future__ import annotations

from dataclasses import dataclass

from domain.limits import MAX_COST, MAX_LINE_BYTES, MAX_LINE_ITEMS, MAX_PART_QUANTITY, MAX_RECORD_BYTES

VIN_PATTERN = r"^[A-HJ-NPR-Z0-9]{17}$"
MIN_YEAR = 1950
MAX_ODOMETER_KM = 2_000_000


@dataclass(frozen=True)
class Rule:
    name: str
    message: str


RULES: dict[str, Rule] = {
    rule.name: rule
    for rule in (
        Rule("required", "a required field is missing or empty"),
        Rule("vin_format", "VIN must be 17 characters of A-Z and 0-9 without I, O or Q"),
        Rule("year_range", f"model year must be from {MIN_YEAR} to the service year + 1"),
        Rule("odometer_range", f"odometer reading must be from 0 to {MAX_ODOMETER_KM:,} km"),
        Rule("non_negative_cost", "costs must not be negative"),
        Rule("cost_too_large", f"a cost must be at most {MAX_COST:,} IDR"),
        Rule("line_cost_too_large", f"a part line's quantity x unit_cost must be at most {MAX_COST:,} IDR"),
        Rule("quantity_positive", "part quantity must be at least 1"),
        Rule("quantity_too_large", f"part quantity must be at most {MAX_PART_QUANTITY:,}"),
        Rule("service_date_format", "service_date is not an ISO-8601 date-time, such as 2026-11-20T10:30:00+07:00"),
        Rule("service_date_range", "service_date must be on or after 2000-01-01 and at most one day in the future"),
        Rule(
            "duplicate_id",
            "this dealership's service_record_id is repeated later in the same file; the last occurrence is kept",
        ),
        Rule("malformed_json", "the line is not valid JSON"),
        Rule("not_an_object", "a record must be a JSON object"),
        Rule("wrong_type", "a field has the wrong type"),
        Rule("non_finite_number", "numbers must be finite: NaN and Infinity are not JSON numbers"),
        Rule("number_out_of_range", "an integer must fit in 64 bits"),
        Rule("control_character", "text must not contain control characters (other than tab and line breaks)"),
        Rule("invalid_utf8", "the line is not valid UTF-8 text"),
        Rule(
            "record_too_large",
            f"a record must be at most {MAX_RECORD_BYTES // 1024} KiB of JSON "
            f"(a line over {MAX_LINE_BYTES // (1024 * 1024)} MiB is not read)",
        ),
        Rule("too_deeply_nested", "a record must not nest arrays and objects 1,000 levels deep"),
        Rule("too_many_lines", f"services_performed and parts_used hold at most {MAX_LINE_ITEMS:,} entries each"),
    )
}
