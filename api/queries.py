"""Read queries of the API: keyword-only arguments and a connection, no HTTP concerns."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import psycopg
from psycopg.rows import dict_row

from api.access import Scope

__all__ = [
    "INTERVALS",
    "QUALITY_NAMES",
    "latest_values",
    "list_devices",
    "list_gateways",
    "pipeline_freshness",
    "point_series",
    "site_emissions",
    "site_exists",
    "visible_sites",
]

QUALITY_NAMES = {0: "good", 1: "uncertain", 2: "bad"}
INTERVALS = {"1m": timedelta(minutes=1), "1h": timedelta(hours=1), "1d": timedelta(days=1)}
_ORIGIN = "2000-01-01T00:00:00+00:00"
# `sites` arguments: None for every site (and rows without one), else only rows of those sites
_IN_SITES = "(%(sites)s::text[] IS NULL OR {column} = ANY(%(sites)s::text[]))"


async def visible_sites(conn: psycopg.AsyncConnection, *, scope: Scope) -> list[str] | None:
    """The site ids a scope covers; None when it covers everything. A region covers its sub-regions
    (CN-ZJ covers CN-ZJ-HZ)."""
    if scope.all:
        return None
    cur = await conn.execute(
        "SELECT s.site_id FROM sites s JOIN enterprises e USING (enterprise_id)"
        " WHERE s.enterprise_id = ANY(%(enterprises)s::text[])"
        " OR EXISTS (SELECT 1 FROM unnest(%(regions)s::text[]) r"
        "            WHERE e.region = r OR starts_with(e.region, r || '-'))"
        " ORDER BY 1",
        {"enterprises": list(scope.enterprises), "regions": list(scope.regions)},
    )
    return [r[0] for r in await cur.fetchall()]


async def list_devices(conn: psycopg.AsyncConnection, *, sites: Sequence[str] | None) -> list[dict[str, Any]]:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            "SELECT d.device_id, d.site_id, d.process, d.profile, d.gateway_id, d.last_seen,"
            " COALESCE(json_agg(json_build_object('point', p.point, 'unit', p.unit, 'kind', p.kind,"
            "   'activity', p.activity) ORDER BY p.point) FILTER (WHERE p.point_key IS NOT NULL), '[]') AS points"
            " FROM devices d LEFT JOIN points p ON p.device_id = d.device_id"
            f" WHERE {_IN_SITES.format(column='d.site_id')}"
            " GROUP BY d.device_id ORDER BY d.device_id",
            {"sites": _list(sites)},
        )
        return list(await cur.fetchall())


async def list_gateways(conn: psycopg.AsyncConnection, *, sites: Sequence[str] | None) -> list[dict[str, Any]]:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            "SELECT g.gateway_id, g.site_id, g.first_seen, g.last_seen,"
            " ARRAY(SELECT d.device_id FROM devices d WHERE d.gateway_id = g.gateway_id ORDER BY 1) AS devices"
            f" FROM gateways g WHERE {_IN_SITES.format(column='g.site_id')} ORDER BY g.gateway_id",
            {"sites": _list(sites)},
        )
        return list(await cur.fetchall())


def _list(sites: Sequence[str] | None) -> list[str] | None:
    return None if sites is None else list(sites)


async def point_series(
    conn: psycopg.AsyncConnection, *, device: str, point: str, start: datetime, end: datetime, interval: str,
    sites: Sequence[str] | None,
) -> dict[str, Any] | None:
    """Raw or bucketed values of one point; None when the point is unknown or outside `sites`."""
    cur = await conn.execute(
        "SELECT p.point_key, p.unit, p.kind FROM points p LEFT JOIN devices d USING (device_id)"
        f" WHERE p.device_id = %(device)s AND p.point = %(point)s AND {_IN_SITES.format(column='d.site_id')}",
        {"device": device, "point": point, "sites": _list(sites)},
    )
    found = await cur.fetchone()
    if found is None:
        return None
    key, unit, kind = found
    if interval == "raw":
        cur = await conn.execute(
            "SELECT ts, value, quality FROM readings WHERE point_key = %s AND ts >= %s AND ts < %s"
            " ORDER BY ts LIMIT 100000",
            (key, start, end),
        )
        rows = [{"ts": ts, "value": v, "quality": QUALITY_NAMES[q]} for ts, v, q in await cur.fetchall()]
    else:
        cur = await conn.execute(
            "SELECT date_bin(%s, ts, %s::timestamptz) AS bucket, avg(value) FILTER (WHERE quality < 2),"
            " min(value) FILTER (WHERE quality < 2), max(value) FILTER (WHERE quality < 2),"
            " (array_agg(value ORDER BY ts DESC) FILTER (WHERE quality < 2))[1], count(*), max(quality)"
            " FROM readings WHERE point_key = %s AND ts >= %s AND ts < %s GROUP BY 1 ORDER BY 1",
            (INTERVALS[interval], _ORIGIN, key, start, end),
        )
        rows = [
            {"ts": b, "value": (last if kind == "counter" else avg), "min": lo, "max": hi, "count": n,
             "quality": QUALITY_NAMES[q]}
            for b, avg, lo, hi, last, n, q in await cur.fetchall()
        ]
    return {"device": device, "point": point, "unit": unit, "kind": kind, "interval": interval, "points": rows}


async def site_exists(conn: psycopg.AsyncConnection, *, site: str) -> bool:
    cur = await conn.execute("SELECT 1 FROM sites WHERE site_id = %s", (site,))
    return await cur.fetchone() is not None


async def site_emissions(
    conn: psycopg.AsyncConnection, *, site: str, start: datetime, end: datetime, interval: str
) -> list[dict[str, Any]]:
    """tCO2 per bucket and activity with the factor rows and formulas used."""
    cur = await conn.execute(
        "SELECT date_bin(%s, ts, %s::timestamptz) AS bucket, activity, sum(tco2), sum(quantity),"
        " min(quantity_unit), string_agg(DISTINCT array_to_string(factor_ids, ','), ','),"
        " array_agg(DISTINCT formula), max(quality), count(*) FROM emissions"
        " WHERE site_id = %s AND ts >= %s AND ts < %s GROUP BY 1, 2 ORDER BY 1, 2",
        (INTERVALS[interval], _ORIGIN, site, start, end),
    )
    return [
        {"ts": b, "source": activity, "tco2": t, "activity_amount": q, "activity_unit": u,
         "factor_versions": sorted(set(fs.split(","))), "formulas": sorted(fm), "quality": QUALITY_NAMES[ql], "intervals": n}
        for b, activity, t, q, u, fs, fm, ql, n in await cur.fetchall()
    ]


async def pipeline_freshness(conn: psycopg.AsyncConnection) -> dict[str, Any]:
    cur = await conn.execute("SELECT max(last_seen), count(*) FROM devices")
    last_seen, devices = await cur.fetchone() or (None, 0)
    return {"devices": devices, "last_reading_at": last_seen}


async def latest_values(
    conn: psycopg.AsyncConnection, *, within: timedelta, sites: Sequence[str] | None
) -> list[dict[str, Any]]:
    """The newest reading of every point of `sites` seen within `within`."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            "SELECT p.device_id AS device, p.point, p.unit, p.kind, r.ts, r.value, r.quality FROM ("
            "  SELECT DISTINCT ON (point_key) point_key, ts, value, quality FROM readings"
            "  WHERE ts > now() - %(within)s ORDER BY point_key, ts DESC) r"
            " JOIN points p ON p.point_key = r.point_key LEFT JOIN devices d ON d.device_id = p.device_id"
            f" WHERE {_IN_SITES.format(column='d.site_id')}"
            " ORDER BY p.device_id, p.point",
            {"within": within, "sites": _list(sites)},
        )
        rows = list(await cur.fetchall())
    for row in rows:
        row["quality"] = QUALITY_NAMES[row["quality"]]
    return rows
