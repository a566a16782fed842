"""Read queries of the period comparisons: a scope's tCO2 and activity amounts in a window. Keyword-only
arguments and a connection, no HTTP concerns."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import psycopg

from api.queries import QUALITY_NAMES

__all__ = ["scope_co2"]


async def scope_co2(conn: psycopg.AsyncConnection, *, sites: Sequence[str], start: datetime, end: datetime,
                    process: str | None = None) -> dict[str, Any]:
    """tCO2 of `sites` (optionally of one process's devices) in [start, end), in total, by source (activity,
    with its activity amount) and by process, with the factor versions used. The same figures as
    `api.queries.site_co2` for one site: an emission counts in the window its interval ends in."""
    params = {"sites": list(sites), "start": start, "end": end, "process": process}
    scope = ("FROM emissions e LEFT JOIN points p ON p.point_key = e.point_key"
             " LEFT JOIN devices d ON d.device_id = p.device_id"
             " WHERE e.site_id = ANY(%(sites)s::text[]) AND e.ts >= %(start)s AND e.ts < %(end)s"
             " AND (%(process)s::text IS NULL OR d.process = %(process)s)")
    cur = await conn.execute(
        "SELECT e.activity, COALESCE(d.process, ''), e.quantity_unit, sum(e.tco2), sum(e.quantity), max(e.quality),"
        f" count(*) {scope} GROUP BY 1, 2, 3 ORDER BY 1, 2, 3", params)
    rows = await cur.fetchall()
    cur = await conn.execute(f"SELECT DISTINCT unnest(e.factor_ids) {scope} ORDER BY 1", params)
    factors = [r[0] for r in await cur.fetchall()]
    by_source: dict[str, dict[str, Any]] = {}
    by_process: dict[str, dict[str, Any]] = {}
    for activity, proc, unit, tco2, quantity, quality, n in rows:
        src = by_source.setdefault(activity, {"source": activity, "tco2": 0.0, "activity_amount": {},
                                              "intervals": 0, "quality": 0})
        src["tco2"] += tco2
        # one activity is stored in one unit; should two ever meet, they are kept apart, not added
        src["activity_amount"][unit] = src["activity_amount"].get(unit, 0.0) + quantity
        src["intervals"] += n
        src["quality"] = max(src["quality"], quality)
        row = by_process.setdefault(proc, {"process": proc or None, "tco2": 0.0, "intervals": 0})
        row["tco2"] += tco2
        row["intervals"] += n
    for src in by_source.values():
        src["quality"] = QUALITY_NAMES[src["quality"]]
    return {
        "total_tco2": sum(r["tco2"] for r in by_source.values()),
        "by_source": sorted(by_source.values(), key=lambda r: -r["tco2"]),
        "by_process": sorted(by_process.values(), key=lambda r: -r["tco2"]),
        "factor_versions": factors,
    }
