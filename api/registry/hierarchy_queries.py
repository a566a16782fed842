"""The site hierarchy as administrators edit it: enterprises (region code, industry class), their sites,
the devices of a site and the accounting activity bound to each point.

Every change returns (before, after) for the audit log. Database refusals are mapped into `api.errors`:
a taken id is a `Conflict`, a reference to a missing parent `InvalidInput`, and a row that data still
depends on a `Conflict` naming what depends on it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import psycopg
from psycopg import errors as pg_errors
from psycopg import sql
from psycopg.rows import dict_row

from api.errors import Conflict, InvalidInput, NotFound

__all__ = [
    "KINDS",
    "create",
    "delete_device",
    "delete_enterprise",
    "delete_point",
    "delete_site",
    "get",
    "list_enterprises",
    "put_point",
    "update",
]

# kind -> (table, key column, columns shown and written)
KINDS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "enterprise": ("enterprises", "enterprise_id", ("enterprise_id", "name", "region", "industry", "credit_code")),
    "site": ("sites", "site_id", ("site_id", "enterprise_id", "name", "province", "grid_region")),
    "device": ("devices", "device_id", ("device_id", "site_id", "process", "profile", "gateway_id", "last_seen")),
}
_POINT_COLUMNS = ("point_key", "device_id", "point", "unit", "kind", "activity")


def _select(kind: str) -> sql.Composed:
    table, _, columns = KINDS[kind]
    return sql.SQL("SELECT {} FROM {}").format(sql.SQL(", ").join(map(sql.Identifier, columns)),
                                               sql.Identifier(table))


async def get(conn: psycopg.AsyncConnection, *, kind: str, key: str) -> dict[str, Any] | None:
    """One enterprise, site or device by id, or None."""
    _, key_column, _ = KINDS[kind]
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(_select(kind) + sql.SQL(" WHERE {} = %s").format(sql.Identifier(key_column)), (key,))
        row = await cur.fetchone()
    if row is not None and kind == "device":
        row["points"] = await _points(conn, device=key)
    return row


async def list_enterprises(conn: psycopg.AsyncConnection, *, region: str | None) -> list[dict[str, Any]]:
    """Enterprises with their site count; `region` also matches its sub-regions (CN-ZJ: CN-ZJ-HZ)."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            "SELECT e.enterprise_id, e.name, e.region, e.industry, e.credit_code,"
            " (SELECT count(*) FROM sites s WHERE s.enterprise_id = e.enterprise_id) AS sites FROM enterprises e"
            " WHERE %(region)s::text IS NULL OR e.region = %(region)s OR starts_with(e.region, %(region)s || '-')"
            " ORDER BY e.enterprise_id",
            {"region": region},
        )
        return list(await cur.fetchall())


def _missing_parent(exc: pg_errors.ForeignKeyViolation) -> InvalidInput:
    detail = exc.diag.message_detail or str(exc)
    return InvalidInput(f"unknown reference: {detail.replace('is not present in table', 'does not exist in')}")


async def create(conn: psycopg.AsyncConnection, *, kind: str, values: Mapping[str, Any]) -> dict[str, Any]:
    """Insert an enterprise, site or device; `Conflict` when its id is taken."""
    table, key_column, _ = KINDS[kind]
    names = list(values)
    statement = sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
        sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, names)),
        sql.SQL(", ").join(sql.Placeholder() * len(names)))
    try:
        async with conn.transaction():
            await conn.execute(statement, [values[n] for n in names])
    except pg_errors.UniqueViolation as exc:
        raise Conflict(f"{kind} {values[key_column]!r} already exists") from exc
    except pg_errors.ForeignKeyViolation as exc:
        raise _missing_parent(exc) from exc
    created = await get(conn, kind=kind, key=values[key_column])
    assert created is not None
    return created


async def update(conn: psycopg.AsyncConnection, *, kind: str, key: str,
                 changes: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Change some columns of an enterprise, site or device: (before, after); `NotFound` when it is unknown."""
    table, key_column, _ = KINDS[kind]
    before = await get(conn, kind=kind, key=key)
    if before is None:
        raise NotFound(f"no {kind} {key!r}")
    if changes:
        assignments = sql.SQL(", ").join(sql.SQL("{} = {}").format(sql.Identifier(n), sql.Placeholder())
                                         for n in changes)
        statement = sql.SQL("UPDATE {} SET {} WHERE {} = %s").format(sql.Identifier(table), assignments,
                                                                   sql.Identifier(key_column))
        try:
            async with conn.transaction():
                await conn.execute(statement, [*changes.values(), key])
        except pg_errors.ForeignKeyViolation as exc:
            raise _missing_parent(exc) from exc
    after = await get(conn, kind=kind, key=key)
    assert after is not None
    return before, after


async def _count(conn: psycopg.AsyncConnection, query: str, params: tuple[Any, ...]) -> int:
    cur = await conn.execute(query, params)
    row = await cur.fetchone()
    return int(row[0]) if row else 0


def _refuse(kind: str, key: str, found: dict[str, int], hint: str) -> None:
    held = {what: n for what, n in found.items() if n}
    if held:
        listed = ", ".join(f"{n} {what}" for what, n in held.items())
        raise Conflict(f"{kind} {key!r} still has {listed}; {hint}")


async def _delete(conn: psycopg.AsyncConnection, *, kind: str, key: str) -> None:
    table, key_column, _ = KINDS[kind]
    try:
        async with conn.transaction():
            await conn.execute(sql.SQL("DELETE FROM {} WHERE {} = %s").format(sql.Identifier(table),
                                                                             sql.Identifier(key_column)), (key,))
    except pg_errors.ForeignKeyViolation as exc:
        detail = exc.diag.message_detail or str(exc)
        raise Conflict(f"{kind} {key!r} is still referenced: {detail}") from exc


async def delete_enterprise(conn: psycopg.AsyncConnection, *, key: str) -> dict[str, Any]:
    """Delete an enterprise without sites, users or reports; returns it as it was."""
    before = await get(conn, kind="enterprise", key=key)
    if before is None:
        raise NotFound(f"no enterprise {key!r}")
    found = {
        "sites": await _count(conn, "SELECT count(*) FROM sites WHERE enterprise_id = %s", (key,)),
        "users": await _count(conn, "SELECT count(*) FROM users WHERE enterprise_id = %s", (key,))
        + await _count(conn, "SELECT count(*) FROM user_enterprises WHERE enterprise_id = %s", (key,)),
    }
    _refuse("enterprise", key, found, "delete or move them first")
    await _delete(conn, kind="enterprise", key=key)
    return before


async def delete_site(conn: psycopg.AsyncConnection, *, key: str) -> dict[str, Any]:
    """Delete a site without devices, gateways or emissions; returns it as it was."""
    before = await get(conn, kind="site", key=key)
    if before is None:
        raise NotFound(f"no site {key!r}")
    found = {
        "devices": await _count(conn, "SELECT count(*) FROM devices WHERE site_id = %s", (key,)),
        "gateways": await _count(conn, "SELECT count(*) FROM gateways WHERE site_id = %s", (key,)),
        "emission records": await _count(conn, "SELECT count(*) FROM (SELECT 1 FROM emissions WHERE site_id = %s"
                                               " LIMIT 1000000) e", (key,)),
    }
    _refuse("site", key, found, "delete or move the devices and gateways first; sites with emissions are kept")
    await _delete(conn, kind="site", key=key)
    return before


async def _point_data(conn: psycopg.AsyncConnection, *, keys: list[int]) -> dict[str, int]:
    return {
        "readings": await _count(conn, "SELECT cf_points_reading_count(%s, 1000000)", (keys,)),
        "emission records": await _count(conn, "SELECT count(*) FROM (SELECT 1 FROM emissions"
                                               " WHERE point_key = ANY(%s) LIMIT 1000000) e", (keys,)),
    }


async def delete_device(conn: psycopg.AsyncConnection, *, key: str) -> dict[str, Any]:
    """Delete a device and its point bindings when none of its points has readings or alarms."""
    before = await get(conn, kind="device", key=key)
    if before is None:
        raise NotFound(f"no device {key!r}")
    keys = [p["point_key"] for p in before["points"]]
    found = {**await _point_data(conn, keys=keys),
             "alarms": await _count(conn, "SELECT count(*) FROM alarms WHERE device_id = %s", (key,))}
    _refuse("device", key, found, "devices with data are kept for the record")
    await conn.execute("DELETE FROM point_state WHERE point_key = ANY(%s)", (keys,))
    await conn.execute("DELETE FROM points WHERE device_id = %s", (key,))
    await _delete(conn, kind="device", key=key)
    return before


async def _points(conn: psycopg.AsyncConnection, *, device: str, point: str | None = None) -> list[dict[str, Any]]:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            f"SELECT {', '.join(_POINT_COLUMNS)} FROM points WHERE device_id = %s"
            " AND (%s::text IS NULL OR point = %s) ORDER BY point",
            (device, point, point),
        )
        return list(await cur.fetchall())


async def put_point(conn: psycopg.AsyncConnection, *, device: str, point: str, unit: str | None, kind: str | None,
                    activity: str | None) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """Create or change a point binding of a device: (before, after). Unit and kind keep their value when None
    (a new point: '' and 'gauge'); the activity is always set (None unbinds it)."""
    if await get(conn, kind="device", key=device) is None:
        raise NotFound(f"no device {device!r}")
    previous = await _points(conn, device=device, point=point)
    before = previous[0] if previous else None
    await conn.execute(
        "INSERT INTO points (device_id, point, unit, kind, activity) VALUES (%s, %s, COALESCE(%s, ''),"
        " COALESCE(%s, 'gauge'), %s) ON CONFLICT (device_id, point) DO UPDATE SET"
        " unit = COALESCE(%s, points.unit), kind = COALESCE(%s, points.kind), activity = EXCLUDED.activity",
        (device, point, unit, kind, activity, unit, kind),
    )
    after = (await _points(conn, device=device, point=point))[0]
    return before, after


async def delete_point(conn: psycopg.AsyncConnection, *, device: str, point: str) -> dict[str, Any]:
    """Remove a point binding that has no readings; returns it as it was."""
    found = await _points(conn, device=device, point=point)
    if not found:
        raise NotFound(f"device {device!r} has no point {point!r}")
    before = found[0]
    _refuse("point", f"{device}/{point}", await _point_data(conn, keys=[before["point_key"]]),
            "points with data are kept for the record")
    await conn.execute("DELETE FROM point_state WHERE point_key = %s", (before["point_key"],))
    await conn.execute("DELETE FROM points WHERE point_key = %s", (before["point_key"],))
    return before
