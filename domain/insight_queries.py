"""The insights report's questions, each one SQL text in Athena's dialect (Trino's SQL).

The same text runs in Athena over the catalogued star schema and, on one machine, in DuckDB
(``adapters/duckdb_engine.py`` translates the dialect with sqlglot); docs/analytics.md quotes
these texts as they are here (a test holds the two equal: ``python -m entrypoints.cli.query_docs``
rewrites the docs' copy).

Every query reads the star schema's tables by their catalog names and one more,
``report_period(since DATE, until DATE)``: the service dates (local) the report covers. In
Athena, make it a view: ``CREATE VIEW report_period AS SELECT DATE '2026-11-01' AS since,
DATE '2026-11-30' AS until``.

What the questions mean, at their edges:
- Each record counts once, at its latest version (the greatest ``ingested_at``, then the
  greatest ``source_file``), with that version's lines; then the period applies to it.
- Dimension rows (vehicle, dealer) are taken at their latest version: a renamed dealer is one
  dealer, with its latest name.
- A repeat repair is a visit with the same VIN and service code as the previous visit with that
  code, at most 30 days (30 x 86,400 seconds, exactly: 30.5 days is not) and at most 3,000 km
  (either way) after it. A code listed twice in one record is one visit; a line without a code
  is no visit. Visits at the same instant are ordered by dealer id, then record id.
"""

from __future__ import annotations

REPEAT_DAYS = 30
REPEAT_KM = 3_000

_LATEST = """WITH fact AS (
  SELECT * FROM (
    SELECT f.*, row_number() OVER (
      PARTITION BY f.dealer_id, f.service_record_id ORDER BY f.ingested_at DESC, f.source_file DESC) AS version
    FROM fact_service_records f)
  WHERE version = 1
    AND service_date_local BETWEEN (SELECT since FROM report_period) AND (SELECT until FROM report_period)
),
lines AS (
  SELECT s.*, f.vin, f.service_datetime_utc, f.odometer_reading
  FROM dim_services_performed s
  JOIN fact f ON s.dealer_id = f.dealer_id AND s.service_record_id = f.service_record_id
    AND s.source_file = f.source_file
),
vehicles AS (
  SELECT vin, model, year FROM (
    SELECT v.*, row_number() OVER (PARTITION BY v.vin ORDER BY v.ingested_at DESC, v.source_file DESC) AS version
    FROM dim_vehicle v)
  WHERE version = 1
),
dealers AS (
  SELECT dealer_id, dealer_name, dealer_location FROM (
    SELECT d.*, row_number() OVER (
      PARTITION BY d.dealer_id ORDER BY d.ingested_at DESC, d.source_file DESC) AS version
    FROM dim_dealer d)
  WHERE version = 1
)
"""


def _query(body: str) -> str:
    """A question: the common steps, then its own (a body starting with "," adds steps)."""
    steps = _LATEST.rstrip("\n") if body.startswith(",") else _LATEST
    return "".join((steps, body))


FREQUENT_SERVICES = _query(
    """-- How often each service was performed, by vehicle model and model year.
SELECT v.model, v.year, l.service_name, count(*) AS services
FROM lines l
JOIN vehicles v ON v.vin = l.vin
GROUP BY v.model, v.year, l.service_name
ORDER BY services DESC, v.model, v.year, l.service_name
"""
)

PART_USAGE_BY_MONTH = _query(
    """-- Quantity of each part used per month of service (local date).
SELECT date_format(CAST(f.service_date_local AS timestamp), '%Y-%m') AS month, p.part_code, p.part_name,
       sum(p.quantity) AS quantity
FROM dim_parts_used p
JOIN fact f ON p.dealer_id = f.dealer_id AND p.service_record_id = f.service_record_id
  AND p.source_file = f.source_file
GROUP BY 1, 2, 3
ORDER BY month, quantity DESC, p.part_name
"""
)

COST_BY_DEALER = _query(
    """-- Services, mean, median and total cost (IDR) per dealer and city. The mean and median
-- are DOUBLE (Athena's approx_percentile takes no DECIMAL); the total is exact.
SELECT f.dealer_id, d.dealer_name, d.dealer_location AS city, count(*) AS services,
       avg(CAST(f.total_cost AS DOUBLE)) AS mean_cost,
       approx_percentile(CAST(f.total_cost AS DOUBLE), 0.5) AS median_cost,
       sum(f.total_cost) AS total_cost
FROM fact f
LEFT JOIN dealers d ON d.dealer_id = f.dealer_id
GROUP BY f.dealer_id, d.dealer_name, d.dealer_location
ORDER BY city, f.dealer_id
"""
)

# The thresholds are written out in the text (REPEAT_DAYS, REPEAT_KM: a test holds them equal),
# so that the SQL quoted in the docs is the SQL that runs.
REPEAT_REPAIRS = _query(
    """,
visits AS (
  SELECT dealer_id, service_record_id, service_code, min_by(service_name, line_number) AS service_name,
         vin, service_datetime_utc, odometer_reading
  FROM lines
  WHERE service_code IS NOT NULL
  GROUP BY dealer_id, service_record_id, service_code, vin, service_datetime_utc, odometer_reading
),
ordered AS (
  SELECT v.*,
         lag(dealer_id) OVER w AS previous_dealer_id,
         lag(service_record_id) OVER w AS previous_record_id,
         to_unixtime(service_datetime_utc) - to_unixtime(lag(service_datetime_utc) OVER w) AS seconds_apart,
         odometer_reading - lag(odometer_reading) OVER w AS km_apart
  FROM visits v
  WINDOW w AS (PARTITION BY vin, service_code ORDER BY service_datetime_utc, dealer_id, service_record_id)
)
-- The same service on the same VIN again within 30 days and 3,000 km of the previous one.
SELECT vin, service_code, service_name, previous_dealer_id, previous_record_id, dealer_id, service_record_id,
       round(seconds_apart / 86400.0, 1) AS days_apart, km_apart
FROM ordered
WHERE previous_record_id IS NOT NULL
  AND seconds_apart <= 30 * 86400
  AND abs(km_apart) <= 3000
ORDER BY vin, service_code, service_datetime_utc, dealer_id, service_record_id
"""
)

ODOMETER_AT_REPAIR = _query(
    """-- Mean odometer (km) at each service, per vehicle model.
SELECT v.model, l.service_name, count(*) AS services, round(avg(l.odometer_reading), 0) AS mean_odometer_km
FROM lines l
JOIN vehicles v ON v.vin = l.vin
GROUP BY v.model, l.service_name
ORDER BY v.model, mean_odometer_km
"""
)

# How many records the report covers: each at its latest version, in the period.
RECORDS = _query("SELECT count(*) AS records FROM fact\n")

# The report's tables answered by SQL, in the order the report shows them.
QUERIES = {
    "frequent_services": FREQUENT_SERVICES,
    "part_usage_by_month": PART_USAGE_BY_MONTH,
    "cost_by_dealer": COST_BY_DEALER,
    "repeat_repairs": REPEAT_REPAIRS,
    "odometer_at_repair": ODOMETER_AT_REPAIR,
}
# The published tables the queries read (besides report_period). The engine reads only the
# columns a query uses, as it streams their files.
TABLES_READ = (
    "fact_service_records",
    "dim_services_performed",
    "dim_parts_used",
    "dim_vehicle",
    "dim_dealer",
)

# What the rejection rates compare (domain/insights.py), from the files ingested in the period:
# every row that arrived valid (every version: this is about what was sent), and each rejected
# row with each rule it failed.
ARRIVED_VALID = """SELECT dealer_id FROM fact_service_records
WHERE ingest_date BETWEEN (SELECT since FROM report_period) AND (SELECT until FROM report_period)"""
ARRIVED_REJECTED = """SELECT dealer_id, rule, source_file || '#' || CAST(record_index AS VARCHAR) AS row_key
FROM rejected_rows
WHERE ingest_date BETWEEN (SELECT since FROM report_period) AND (SELECT until FROM report_period)"""
