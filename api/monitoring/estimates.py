"""Estimated figures in monitoring (migration 138): the fuel CO2 of units that report electricity only, simulated
by the electricity-carbon factors' fuel models (api/grid_factors, POST /grid-factors/simulation/to-monitoring).

They never enter the reported figures or their totals: the views read them here and show them apart, as
`estimated` beside the reported (measured) figures, with the models that made them. An estimate whose unit has
since reported coal, oil or gas for that month is superseded: it is left out on read (and counted as such), so a
reported figure is never added to an estimate of the same thing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from api.monitoring.queries import GROUPINGS, UnitScope

__all__ = ["EstimatedRow", "estimated_by", "replace_estimates", "unit_estimates"]

EstimatedRow = dict[str, Any]  # key, tco2, low_tco2, high_tco2, unit_months, models ({model_id: model_version})

# an estimate is superseded once the unit reports any fuel for that month
_CURRENT = ("NOT EXISTS (SELECT 1 FROM monitoring_figures f WHERE f.unit_id = e.unit_id AND f.month = e.month"
            " AND f.item IN ('coal', 'oil', 'natural_gas'))")


async def estimated_by(conn: psycopg.AsyncConnection, *, scope: UnitScope, prefix: str, industry: str | None,
                       start: date, end: date, group: str,
                       unit_ids: Sequence[int] | None = None) -> dict[str, EstimatedRow]:
    """The current estimates of the units in scope under region `prefix` (and industry class prefix), months
    [start, end), added up by `group` (a key of queries.GROUPINGS), with the models used; by key."""
    where, params = scope.where()
    only = "" if unit_ids is None else " AND u.unit_id = ANY(%(units)s::bigint[])"  # as queries.aggregate does
    key = GROUPINGS[group].replace("f.month", "e.month")
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            f"SELECT {key} AS key, sum(e.tco2) AS tco2, sum(e.low_tco2) AS low_tco2, sum(e.high_tco2) AS high_tco2,"
            " count(*) AS unit_months, jsonb_object_agg(e.model_id, e.model_version) AS models"
            " FROM monitoring_estimates e JOIN monitoring_units u USING (unit_id)"
            f" WHERE {where} AND u.region_code LIKE %(prefix)s AND u.industry_code LIKE %(industry)s"
            f" AND e.month >= %(start)s AND e.month < %(end)s AND {_CURRENT}{only} GROUP BY 1",
            {**params, "prefix": f"{prefix}%", "industry": f"{industry or ''}%", "start": start, "end": end,
             "units": list(unit_ids or ())})
        return {str(row["key"]): {**row, "key": str(row["key"])} for row in await cur.fetchall()}


async def unit_estimates(conn: psycopg.AsyncConnection, *, unit_id: int, start: date,
                         end: date) -> list[dict[str, Any]]:
    """A unit's current estimates by month, with their model and the run that made them."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            "SELECT to_char(e.month, 'YYYY-MM') AS month, e.electricity_mwh, e.tco2, e.low_tco2, e.high_tco2,"
            " e.model_id, e.model_version, e.run_id, r.created_at AS estimated_at"
            " FROM monitoring_estimates e JOIN monitoring_estimate_runs r USING (run_id)"
            f" WHERE e.unit_id = %s AND e.month >= %s AND e.month < %s AND {_CURRENT} ORDER BY e.month",
            (unit_id, start, end))
        return list(await cur.fetchall())


async def replace_estimates(conn: psycopg.AsyncConnection, *, since: date, rows: Sequence[Mapping[str, Any]],
                            models: Mapping[str, str], by: str) -> int:
    """Replace every estimate from `since` on with `rows` (unit_id, month, electricity_mwh, tco2, low_tco2,
    high_tco2, model_id, model_version) as one run; its id. Call inside a transaction."""
    inserted = await conn.execute("INSERT INTO monitoring_estimate_runs (since, models, estimates, created_by)"
                                  " VALUES (%s, %s, %s, %s) RETURNING run_id",
                                  (since, Jsonb(dict(models)), len(rows), by))
    found = await inserted.fetchone()
    assert found is not None
    run_id = int(found[0])
    await conn.execute("DELETE FROM monitoring_estimates WHERE month >= %s", (since,))
    async with conn.cursor() as cur, cur.copy(
            "COPY monitoring_estimates (unit_id, month, electricity_mwh, tco2, low_tco2, high_tco2, model_id,"
            " model_version, run_id) FROM STDIN") as copy:
        for r in rows:
            await copy.write_row((r["unit_id"], r["month"], r["electricity_mwh"], r["tco2"], r["low_tco2"],
                                  r["high_tco2"], r["model_id"], r["model_version"], run_id))
    return run_id
