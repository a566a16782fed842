"""Implausible counter readings (implausible_readings, 091_plausibility.sql) as the API lists and accepts them.
Keyword-only arguments and a connection, no HTTP.

Accepting a rise marks it `accepted`, and with it the open rises of the same point after it that are plausible
when counted from the accepted reading (they were judged against the base the accepted one replaces). The
stream worker then recomputes the affected hours (stream_jobs/plausibility.py `recompute_accepted`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row

from carbon_domain.plausibility import screen_counter
from carbon_domain.schemas import epoch_us

__all__ = ["accept", "get_flag", "list_flags"]

_COLUMNS = ("f.flag_id, p.device_id, p.point, p.unit, d.site_id, f.ts, f.value, f.reason, f.detail, f.previous_ts,"
            " f.previous_value, f.limit_per_h, f.flagged_at, f.state, f.accepted_by, f.accepted_at, f.accepted_with,"
            " f.recomputed_at, f.point_key")
_FROM = " FROM implausible_readings f JOIN points p USING (point_key) LEFT JOIN devices d USING (device_id)"
_IN_SITES = "(%(sites)s::text[] IS NULL OR d.site_id = ANY(%(sites)s::text[]))"


async def list_flags(conn: psycopg.AsyncConnection, *, sites: Sequence[str] | None, state: str | None,
                     device: str | None, since: datetime | None, limit: int) -> list[dict[str, Any]]:
    """Flags of the devices within `sites` (None: every site), newest reading first."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            f"SELECT {_COLUMNS}{_FROM} WHERE {_IN_SITES} AND (%(state)s::text IS NULL OR f.state = %(state)s)"
            " AND (%(device)s::text IS NULL OR p.device_id = %(device)s)"
            " AND (%(since)s::timestamptz IS NULL OR f.ts >= %(since)s) ORDER BY f.ts DESC, f.flag_id DESC"
            " LIMIT %(limit)s",
            {"sites": None if sites is None else list(sites), "state": state, "device": device, "since": since,
             "limit": limit})
        return list(await cur.fetchall())


async def get_flag(conn: psycopg.AsyncConnection, *, flag_id: int, sites: Sequence[str] | None,
                   lock: bool = False) -> dict[str, Any] | None:
    """One flag when its device is within `sites`, else None; `lock` holds its row until the transaction ends."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(f"SELECT {_COLUMNS}{_FROM} WHERE f.flag_id = %(id)s AND {_IN_SITES}"
                          + (" FOR UPDATE OF f" if lock else ""),
                          {"id": flag_id, "sites": None if sites is None else list(sites)})
        return await cur.fetchone()


async def accept(conn: psycopg.AsyncConnection, *, flag: dict[str, Any], by: str) -> list[int]:
    """Accept a rise and the later open rises of its point that are plausible counted from it; returns the ids
    of those later ones. The caller has checked that `flag` is an open rise."""
    cur = await conn.execute(
        "SELECT flag_id, ts, value FROM implausible_readings WHERE point_key = %s AND state = 'open'"
        " AND reason = 'rise' AND ts > %s ORDER BY ts FOR UPDATE", (flag["point_key"], flag["ts"]))
    later = await cur.fetchall()
    found = screen_counter((epoch_us(flag["ts"]), flag["value"]), [epoch_us(ts) for _, ts, _ in later],
                           [value for _, _, value in later], max_rise_per_h=flag["limit_per_h"])
    also = [flag_id for (flag_id, _, _), finding in zip(later, found) if finding is None]
    await conn.execute(
        "UPDATE implausible_readings SET state = 'accepted', accepted_by = %s, accepted_at = now(),"
        " accepted_with = CASE WHEN flag_id = %s THEN NULL ELSE %s END WHERE flag_id = ANY(%s)",
        (by, flag["flag_id"], flag["flag_id"], [flag["flag_id"], *also]))
    return also
