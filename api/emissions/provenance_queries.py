"""The stored emission intervals behind a figure, and the readings behind an interval.

An interval counts in the hour (and the day) its end time falls in, as in the rollups (`scope_totals`). The
rollups hold no provenance, so these read the emission rows themselves; callers keep the ranges short (one
figure's bucket, one hour). Keyword-only arguments and a connection, no HTTP concerns.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import psycopg
from psycopg.rows import dict_row

__all__ = ["hour_intervals", "hourly_figures", "point_readings"]

# the emission rows of a site's activity in [start, end), optionally of one process's devices
_ROWS = (" FROM emissions e JOIN points p ON p.point_key = e.point_key JOIN devices d ON d.device_id = p.device_id"
         " WHERE e.site_id = %(site)s AND e.activity = %(activity)s AND e.ts >= %(start)s AND e.ts < %(end)s"
         " AND (%(process)s::text IS NULL OR d.process = %(process)s)")


async def hourly_figures(conn: psycopg.AsyncConnection, *, site: str, activity: str, start: datetime, end: datetime,
                         process: str | None = None) -> list[dict[str, Any]]:
    """Per UTC hour of [start, end): tCO2, activity amount and unit, intervals by quality, the factor rows and
    formulas the intervals used."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            "SELECT date_trunc('hour', e.ts, 'UTC') AS hour, sum(e.tco2)::float8 AS tco2, sum(e.quantity)::float8 AS"
            " activity_amount, min(e.quantity_unit) AS activity_unit, count(*)::int AS intervals,"
            " count(*) FILTER (WHERE e.quality = 1)::int AS uncertain, count(*) FILTER (WHERE e.quality = 2)::int"
            " AS bad, array_agg(DISTINCT e.formula ORDER BY e.formula) AS formulas,"
            " string_agg(DISTINCT array_to_string(e.factor_ids, ','), ',') AS factor_list"
            + _ROWS + " GROUP BY 1 ORDER BY 1",
            {"site": site, "activity": activity, "start": start, "end": end, "process": process},
        )
        rows = await cur.fetchall()
    for row in rows:
        row["factor_ids"] = sorted(set(filter(None, (row.pop("factor_list") or "").split(","))))
    return rows


async def hour_intervals(conn: psycopg.AsyncConnection, *, site: str, activity: str, start: datetime, end: datetime,
                         process: str | None = None) -> list[dict[str, Any]]:
    """Every emission interval of a site's activity ending in [start, end), with its meter (device, point)."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            "SELECT e.point_key, d.device_id AS device, p.point, d.process, p.unit AS reading_unit, e.start_ts,"
            " e.ts, e.quantity, e.quantity_unit, e.tco2, e.factor_ids, e.formula, e.quality"
            + _ROWS + " ORDER BY d.device_id, p.point, e.ts",
            {"site": site, "activity": activity, "start": start, "end": end, "process": process},
        )
        return list(await cur.fetchall())


async def point_readings(conn: psycopg.AsyncConnection, *, point_keys: Sequence[int], start: datetime,
                         end: datetime) -> dict[int, list[dict[str, Any]]]:
    """point_key -> its stored readings with start <= ts <= end (both ends: an interval's first and last
    counter reading), oldest first, hot rows and compacted blocks alike."""
    answer: dict[int, list[dict[str, Any]]] = {key: [] for key in point_keys}
    if not point_keys:
        return answer
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            "SELECT r.point_key, r.ts, r.value, r.quality FROM unnest(%(keys)s::int[]) AS k(key)"
            " CROSS JOIN LATERAL cf_point_readings(k.key, %(start)s, %(end)s) r ORDER BY r.point_key, r.ts, r.seq",
            {"keys": list(point_keys), "start": start, "end": end + timedelta(microseconds=1)},
        )
        for row in await cur.fetchall():
            answer[row.pop("point_key")].append(row)
    return answer
