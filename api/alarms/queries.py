"""Alarms as the API shows them: listing by state, site and time, acknowledging and clearing by hand.

An alarm's site is its device's, or for gateway alarms (spool_overflow, gateway_offline: the gateway id stands in
device_id) its gateway's; an alarm with neither is seen only by callers whose scope covers every site.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

import psycopg
from psycopg.rows import dict_row

__all__ = ["AlarmState", "acknowledge", "active_alarms", "clear", "get_alarm", "list_alarms"]

AlarmState = Literal["active", "cleared", "all"]

_SELECT = (
    "SELECT a.alarm_id, a.rule, a.device_id, d.site_id, a.point, a.severity, a.state, a.detail, a.raised_at,"
    " a.acknowledged_at, a.acknowledged_by, a.cleared_at, a.cleared_by, a.clear_comment"
    " FROM alarms a LEFT JOIN LATERAL (SELECT COALESCE("
    "   (SELECT site_id FROM devices WHERE device_id = a.device_id),"
    "   (SELECT site_id FROM gateways WHERE gateway_id = a.device_id)) AS site_id) d ON true"
)
_IN_SITES = "(%(sites)s::text[] IS NULL OR d.site_id = ANY(%(sites)s::text[]))"


def _sites(sites: Sequence[str] | None) -> list[str] | None:
    return None if sites is None else list(sites)


async def list_alarms(
    conn: psycopg.AsyncConnection, *, state: AlarmState, sites: Sequence[str] | None, site: str | None,
    since: datetime | None, limit: int, rule: str | None = None,
) -> list[dict[str, Any]]:
    """Alarms of `sites` (None: all), newest first; `since` keeps those raised, acknowledged or cleared since,
    `rule` those of one rule (stuck_value, out_of_range, ...)."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            _SELECT + f" WHERE {_IN_SITES}"
            " AND (%(state)s = 'all' OR a.state = %(state)s)"
            " AND (%(site)s::text IS NULL OR d.site_id = %(site)s)"
            " AND (%(rule)s::text IS NULL OR a.rule = %(rule)s)"
            " AND (%(since)s::timestamptz IS NULL OR GREATEST(a.raised_at, a.acknowledged_at, a.cleared_at)"
            "      >= %(since)s)"
            " ORDER BY a.raised_at DESC, a.alarm_id DESC LIMIT %(limit)s",
            {"sites": _sites(sites), "state": state, "site": site, "since": since, "limit": limit,
             "rule": rule},
        )
        return list(await cur.fetchall())


async def get_alarm(conn: psycopg.AsyncConnection, *, alarm_id: int, sites: Sequence[str] | None,
                    lock: bool = False) -> dict[str, Any] | None:
    """One alarm when it is within `sites`, else None; `lock` holds its row until the transaction ends."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            _SELECT + f" WHERE a.alarm_id = %(id)s AND {_IN_SITES}" + (" FOR UPDATE OF a" if lock else ""),
            {"id": alarm_id, "sites": _sites(sites)},
        )
        return await cur.fetchone()


async def acknowledge(conn: psycopg.AsyncConnection, *, alarm_id: int, by: str) -> None:
    """Record the first acknowledgement; a later one changes nothing."""
    await conn.execute(
        "UPDATE alarms SET acknowledged_at = now(), acknowledged_by = %s WHERE alarm_id = %s"
        " AND acknowledged_at IS NULL",
        (by, alarm_id),
    )


async def clear(conn: psycopg.AsyncConnection, *, alarm_id: int, by: str, comment: str) -> None:
    """Clear an active alarm by hand with the reason."""
    await conn.execute(
        "UPDATE alarms SET state = 'cleared', cleared_at = now(), cleared_by = %s, clear_comment = %s"
        " WHERE alarm_id = %s AND state = 'active'",
        (by, comment, alarm_id),
    )


# the alarms table belongs to the stream jobs (005_alarms.sql): read it through the columns it has, so that the
# overview keeps working while its schema grows
_ALARM_TIME_COLUMNS = ("raised_at", "started_at", "ts", "created_at")


async def active_alarms(conn: psycopg.AsyncConnection, *, site: str, limit: int = 100) -> list[dict[str, Any]]:
    """Active alarms of a site, newest first, each row as the `alarms` table holds it; [] without such a table.
    The site is the alarm's `site_id`, or else its device's; active is `state` = 'active', or else
    `cleared_at` IS NULL."""
    # the catalog rather than information_schema.columns: the overview asks at every request, and the view
    # costs PostgreSQL a few milliseconds each time
    cur = await conn.execute(
        "SELECT attname FROM pg_attribute WHERE attrelid = to_regclass(quote_ident(current_schema()) || '.alarms')"
        " AND attnum > 0 AND NOT attisdropped"
    )
    columns = {r[0] for r in await cur.fetchall()}
    if "site_id" in columns:
        where = "a.site_id = %s"
    elif "device_id" in columns:
        where = "a.device_id IN (SELECT device_id FROM devices WHERE site_id = %s)"
    else:
        return []
    if "state" in columns:
        where += " AND a.state = 'active'"
    elif "cleared_at" in columns:
        where += " AND a.cleared_at IS NULL"
    order = next((c for c in _ALARM_TIME_COLUMNS if c in columns), None)
    found = await conn.execute(
        f"SELECT to_jsonb(a) FROM alarms a WHERE {where}" + (f" ORDER BY a.{order} DESC" if order else "")
        + " LIMIT %s",
        (site, limit),
    )
    return [r[0] for r in await found.fetchall()]
