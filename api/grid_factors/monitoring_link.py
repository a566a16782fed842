"""The electricity-carbon factors read the government monitoring data: each monitoring unit's monthly electricity
use (MWh) and the CO2 of its coal, oil and natural gas become unit energy rows of the factor tools, keyed by the
unit's unified social credit code, with its region label and industry class. A unit without fuel figures in a
month is a unit with electricity data only, which the simulation estimates."""

from __future__ import annotations

from datetime import date
from typing import Any

import psycopg
from psycopg.rows import dict_row

__all__ = ["electricity_only_months", "unit_energy_from_monitoring"]

# the monitoring store keeps electricity in MWh and fuels' CO2 in t (carbon_domain.monitoring.storage_unit_of)
_QUERY = """
SELECT unit_id, industry, region, period, electricity_mwh,
       CASE WHEN reports_fuel THEN coalesce(coal_tco2, 0) END AS coal_tco2,
       CASE WHEN reports_fuel THEN coalesce(oil_tco2, 0) END AS oil_tco2,
       CASE WHEN reports_fuel THEN coalesce(gas_tco2, 0) END AS gas_tco2,
       synthetic
FROM (
SELECT u.credit_code AS unit_id, u.industry_code AS industry, r.label AS region,
       to_char(f.month, 'YYYY-MM') AS period,
       max(f.quantity) FILTER (WHERE f.item = 'electricity') AS electricity_mwh,
       max(f.tco2) FILTER (WHERE f.item = 'coal') AS coal_tco2,
       max(f.tco2) FILTER (WHERE f.item = 'oil') AS oil_tco2,
       max(f.tco2) FILTER (WHERE f.item = 'natural_gas') AS gas_tco2,
       bool_or(f.item IN ('coal', 'oil', 'natural_gas') AND f.tco2 IS NOT NULL) AS reports_fuel,
       bool_or(u.synthetic) AS synthetic
FROM monitoring_figures f
JOIN monitoring_units u USING (unit_id)
JOIN monitoring_regions r ON r.code = u.region_code
WHERE f.month >= %(since)s AND f.item IN ('electricity', 'coal', 'oil', 'natural_gas') AND r.label IS NOT NULL
  AND u.kind = 'enterprise' AND u.status = 'in_production'
GROUP BY u.credit_code, u.industry_code, r.label, f.month
HAVING max(f.quantity) FILTER (WHERE f.item = 'electricity') IS NOT NULL
ORDER BY u.credit_code, f.month
) monthly
"""


async def unit_energy_from_monitoring(conn: psycopg.AsyncConnection, *, since: date) -> list[dict[str, Any]]:
    """Unit energy rows (the shape of POST /grid-factors/units/energy, numbered by `line`) of every enterprise in
    production with electricity figures from `since` on (fuels as the module says)."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(_QUERY, {"since": since})
        found = await cur.fetchall()
    return [{**row, "line": n} for n, row in enumerate(found, start=1)]


# the enterprise unit-months in production with electricity use and no fuel figure at all: what the fuel models
# estimate into monitoring (api/monitoring/estimates.py)
_ELECTRICITY_ONLY = """
SELECT u.unit_id, u.industry_code AS industry, f.month, f.quantity AS electricity_mwh
FROM monitoring_figures f
JOIN monitoring_units u USING (unit_id)
WHERE f.item = 'electricity' AND f.month >= %(since)s AND u.kind = 'enterprise' AND u.status = 'in_production'
  AND NOT EXISTS (SELECT 1 FROM monitoring_figures o WHERE o.unit_id = f.unit_id AND o.month = f.month
                  AND o.item IN ('coal', 'oil', 'natural_gas'))
ORDER BY u.unit_id, f.month
"""


async def electricity_only_months(conn: psycopg.AsyncConnection, *, since: date) -> list[dict[str, Any]]:
    """(unit_id, industry, month, electricity_mwh) of every enterprise unit-month in production from `since` on
    that reports electricity but no coal, oil or natural gas."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(_ELECTRICITY_ONLY, {"since": since})
        return list(await cur.fetchall())
