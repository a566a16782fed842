"""Read queries of the auditor exports: which points a scope holds, the factor ids and formulas behind its
emissions (their rows are accounting's `factor_rows`), and a point's emissions by hour. Keyword-only arguments and a connection, no HTTP concerns."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row

from api.telemetry.buckets import ORIGIN

__all__ = ["emission_provenance", "has_process", "point_hourly_emissions", "scope_points"]


async def scope_points(conn: psycopg.AsyncConnection, *, sites: Sequence[str],
                       process: str | None = None) -> list[dict[str, Any]]:
    """Every point of the devices of `sites` (optionally only those of one process), with its device's site,
    enterprise and process, ordered by site, device and point."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            "SELECT p.point_key, p.device_id AS device, p.point, p.unit, p.kind, p.activity, d.site_id AS site,"
            " s.enterprise_id AS enterprise, d.process FROM points p JOIN devices d ON d.device_id = p.device_id"
            " JOIN sites s ON s.site_id = d.site_id"
            " WHERE d.site_id = ANY(%(sites)s::text[]) AND (%(process)s::text IS NULL OR d.process = %(process)s)"
            " ORDER BY d.site_id, p.device_id, p.point",
            {"sites": list(sites), "process": process},
        )
        return list(await cur.fetchall())


async def has_process(conn: psycopg.AsyncConnection, *, sites: Sequence[str], process: str) -> bool:
    """Whether a device of `sites` belongs to `process`."""
    cur = await conn.execute("SELECT 1 FROM devices WHERE site_id = ANY(%s::text[]) AND process = %s LIMIT 1",
                             (list(sites), process))
    return await cur.fetchone() is not None


async def emission_provenance(conn: psycopg.AsyncConnection, *, point_keys: Sequence[int], start: datetime,
                              end: datetime) -> dict[str, Any]:
    """The factor ids and formulas the emissions of `point_keys` in [start, end) were computed with, and how
    many emission intervals that is. An emission counts in the window its interval ends in."""
    params = {"keys": list(point_keys), "start": start, "end": end}
    where = "WHERE point_key = ANY(%(keys)s::int[]) AND ts >= %(start)s AND ts < %(end)s"
    cur = await conn.execute(f"SELECT array_agg(DISTINCT formula ORDER BY formula), count(*) FROM emissions {where}",
                             params)
    row = await cur.fetchone()
    assert row is not None
    cur = await conn.execute(f"SELECT DISTINCT unnest(factor_ids) FROM emissions {where} ORDER BY 1", params)
    factor_ids = [r[0] for r in await cur.fetchall()]
    return {"factor_ids": factor_ids, "formulas": list(row[0] or []), "intervals": row[1]}


async def point_hourly_emissions(conn: psycopg.AsyncConnection, *, point_key: int, start: datetime,
                                 end: datetime) -> dict[datetime, dict[str, Any]]:
    """A point's emissions in [start, end) by UTC hour (the bucket its interval ends in): activity amount
    and unit, tCO2, intervals, worst quality, factor ids and formulas."""
    cur = await conn.execute(
        "SELECT date_bin('1 hour', ts, %(origin)s::timestamptz) AS bucket, sum(quantity), min(quantity_unit),"
        " sum(tco2), count(*), max(quality),"
        " string_agg(DISTINCT array_to_string(factor_ids, ','), ','),"
        " array_agg(DISTINCT formula ORDER BY formula)"
        " FROM emissions WHERE point_key = %(key)s AND ts >= %(start)s AND ts < %(end)s GROUP BY 1 ORDER BY 1",
        {"origin": ORIGIN, "key": point_key, "start": start, "end": end},
    )
    return {
        bucket: {"activity_amount": qty, "activity_unit": unit, "tco2": tco2, "intervals": n, "quality": q,
                 "factor_ids": sorted(set(factors.split(","))), "formulas": list(formulas)}
        for bucket, qty, unit, tco2, n, q, factors, formulas in await cur.fetchall()
    }
