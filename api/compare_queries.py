"""Read queries of the period comparisons: a scope's tCO2 and activity amounts in a window. Keyword-only
arguments and a connection, no HTTP concerns."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import psycopg

from api import scope_totals

__all__ = ["scope_co2"]


async def scope_co2(conn: psycopg.AsyncConnection, *, sites: Sequence[str], start: datetime, end: datetime,
                    process: str | None = None) -> dict[str, Any]:
    """tCO2 of `sites` (optionally of one process's devices) in [start, end), in total, by source (activity,
    with its activity amount) and by process, with the factor versions used. The same figures as
    `api.scope_totals.site_co2` for one site, from the same rollups."""
    rows = await scope_totals.scope_co2_rows(conn, sites=sites, start=start, end=end, process=process)
    factors = await scope_totals.factor_versions(conn, sites=sites, start=start, end=end, process=process)
    by_source: dict[str, dict[str, Any]] = {}
    by_process: dict[str, dict[str, Any]] = {}
    for activity, proc, unit, tco2, quantity, quality, n in rows:
        src = by_source.setdefault(activity, {"source": activity, "tco2": 0.0, "activity_amount": {},
                                              "intervals": 0, "quality": "good"})
        src["tco2"] += tco2
        # one activity is stored in one unit; should two ever meet, they are kept apart, not added
        src["activity_amount"][unit] = src["activity_amount"].get(unit, 0.0) + quantity
        src["intervals"] += n
        src["quality"] = max(src["quality"], quality, key=scope_totals.QUALITY_RANK.__getitem__)
        row = by_process.setdefault(proc, {"process": proc or None, "tco2": 0.0, "intervals": 0})
        row["tco2"] += tco2
        row["intervals"] += n
    return {
        "total_tco2": sum(r["tco2"] for r in by_source.values()),
        "by_source": sorted(by_source.values(), key=lambda r: -r["tco2"]),
        "by_process": sorted(by_process.values(), key=lambda r: -r["tco2"]),
        "factor_versions": factors,
    }
