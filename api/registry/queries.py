"""Read queries of the registry: sites, devices, gateways and the devices' health. Keyword-only arguments
and a connection, no HTTP concerns."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import psycopg
from psycopg.rows import dict_row

from api.site_filter import IN_SITES as _IN_SITES
from api.site_filter import site_list as _list
from carbon_domain import QUALITY_NAMES

__all__ = ["device_health", "list_devices", "list_gateways", "list_sites", "site_exists"]

# Raw readings are read through cf_point_readings / cf_point_last (076_reading_functions.sql), which see hot rows
# and compacted blocks alike over [from, to); "newer than t" is from t plus timestamptz's resolution.
_AFTER = "interval '1 microsecond'"


async def list_sites(conn: psycopg.AsyncConnection, *, sites: Sequence[str] | None) -> list[dict[str, Any]]:
    """The sites of `sites` with their enterprise, newest device contact and device count."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            "SELECT s.site_id, s.name, s.enterprise_id, e.name AS enterprise_name, e.region, s.province,"
            " s.grid_region, (SELECT count(*) FROM devices d WHERE d.site_id = s.site_id) AS devices,"
            " (SELECT max(d.last_seen) FROM devices d WHERE d.site_id = s.site_id) AS last_seen"
            " FROM sites s JOIN enterprises e USING (enterprise_id)"
            f" WHERE {_IN_SITES.format(column='s.site_id')} ORDER BY s.site_id",
            {"sites": _list(sites)},
        )
        return list(await cur.fetchall())


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
            "SELECT g.gateway_id, g.site_id, g.first_seen, g.last_seen, g.status, g.auth, g.registered_at,"
            " g.revoked_at, g.cert_expires_at,"
            " ARRAY(SELECT d.device_id FROM devices d WHERE d.gateway_id = g.gateway_id ORDER BY 1) AS devices"
            f" FROM gateways g WHERE {_IN_SITES.format(column='g.site_id')} ORDER BY g.gateway_id",
            {"sites": _list(sites)},
        )
        return list(await cur.fetchall())


async def site_exists(conn: psycopg.AsyncConnection, *, site: str) -> bool:
    cur = await conn.execute("SELECT 1 FROM sites WHERE site_id = %s", (site,))
    return await cur.fetchone() is not None



async def device_health(conn: psycopg.AsyncConnection, *, window: timedelta,
                        sites: Sequence[str] | None) -> dict[str, Any]:
    """Every device of `sites` with last contact and, per point, the readings of the last `window` by quality."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            "SELECT d.device_id, d.site_id, d.process, d.profile, d.gateway_id, d.last_seen, p.point, p.unit,"
            " p.kind, q.good, q.uncertain, q.bad, q.last_ts, lr.value AS last_value, lr.quality AS last_quality"
            " FROM devices d LEFT JOIN points p ON p.device_id = d.device_id"
            " LEFT JOIN LATERAL (SELECT count(*) FILTER (WHERE quality = 0) AS good,"
            "   count(*) FILTER (WHERE quality = 1) AS uncertain, count(*) FILTER (WHERE quality = 2) AS bad,"
            "   max(ts) AS last_ts FROM cf_point_readings(p.point_key, now() - %(window)s + " + _AFTER + ","
            "   'infinity')) q"
            "   ON true"
            " LEFT JOIN LATERAL cf_point_last(p.point_key, now() - %(window)s + " + _AFTER + ", 'infinity') lr"
            "   ON true"
            f" WHERE {_IN_SITES.format(column='d.site_id')} ORDER BY d.device_id, p.point",
            {"window": window, "sites": _list(sites)},
        )
        rows = await cur.fetchall()
        await cur.execute("SELECT now() AS now")
        now_row = await cur.fetchone()
    assert now_row is not None
    devices: dict[str, dict[str, Any]] = {}
    for row in rows:
        device = devices.setdefault(row["device_id"], {
            "device_id": row["device_id"], "site_id": row["site_id"], "process": row["process"],
            "profile": row["profile"], "gateway_id": row["gateway_id"], "last_seen": row["last_seen"],
            "quality": {"good": 0, "uncertain": 0, "bad": 0}, "points": [],
        })
        if row["point"] is None:
            continue
        counts = {name: row[name] or 0 for name in ("good", "uncertain", "bad")}
        for name, n in counts.items():
            device["quality"][name] += n
        device["points"].append({
            "point": row["point"], "unit": row["unit"], "kind": row["kind"], "quality": counts,
            "last_reading_at": row["last_ts"], "last_value": row["last_value"],
            "last_quality": None if row["last_quality"] is None else QUALITY_NAMES[row["last_quality"]],
        })
    return {"now": now_row["now"], "devices": list(devices.values())}
