"""Alarms as the API shows them: listing by state, site and time, acknowledging and clearing by hand.

An alarm's site is its device's, or for gateway alarms (spool_overflow, gateway_offline: the gateway id stands in
device_id) its gateway's; an alarm with neither is seen only by callers whose scope covers every site. Platform alarms (source 'platform':
a failed monitoring sync, ...) have neither: other services raise and clear them with `raise_platform_alarm` and
`clear_platform_alarm`. A platform alarm about an enterprise (its `enterprise_id`: a projected allowance deficit, a
deadline ahead) is seen as well by the callers who see that enterprise: its users and auditors, the government
users of its region, and whoever sees one of its sites. One about a region (its `region_code`, GB/T 2260: a
sub-region off track against its target) is seen by the government users of that region or a parent region,
whose scope names it by code or platform label (the monitoring region tree).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

import psycopg
from psycopg.rows import dict_row

from api.auth.access import Scope

__all__ = ["AlarmState", "acknowledge", "active_alarms", "clear", "clear_platform_alarm", "clear_platform_alarms_except",
           "get_alarm", "list_alarms", "raise_platform_alarm"]

AlarmState = Literal["active", "cleared", "all"]

_SELECT = (
    "SELECT a.alarm_id, a.rule, a.device_id, d.site_id, a.point, a.severity, a.state, a.detail, a.raised_at,"
    " a.acknowledged_at, a.acknowledged_by, a.cleared_at, a.cleared_by, a.clear_comment, a.source, a.enterprise_id,"
    " a.region_code"
    " FROM alarms a LEFT JOIN LATERAL (SELECT COALESCE("
    "   (SELECT site_id FROM devices WHERE device_id = a.device_id),"
    "   (SELECT site_id FROM gateways WHERE gateway_id = a.device_id)) AS site_id) d ON true"
)
# an enterprise's alarm is within scope through one of its sites, or through the scope's enterprises and regions
# (an enterprise without sites yet still has its carbon assets)
_IN_SITES = (
    "(%(sites)s::text[] IS NULL OR d.site_id = ANY(%(sites)s::text[])"
    " OR (a.enterprise_id IS NOT NULL AND (a.enterprise_id = ANY(%(enterprises)s::text[])"
    "   OR EXISTS (SELECT 1 FROM sites s WHERE s.enterprise_id = a.enterprise_id"
    "              AND s.site_id = ANY(%(sites)s::text[]))"
    "   OR EXISTS (SELECT 1 FROM enterprises e, unnest(%(regions)s::text[]) r WHERE e.enterprise_id = a.enterprise_id"
    "              AND (e.region = r OR starts_with(e.region, r || '-')))))"
    # a region's alarm: a scope region (a code or a label of the monitoring tree) whose subtree holds its code
    " OR (a.region_code IS NOT NULL AND EXISTS (SELECT 1 FROM monitoring_regions m, unnest(%(regions)s::text[]) r"
    "   WHERE (m.code = r OR m.label = r) AND starts_with(a.region_code, CASE WHEN m.code LIKE '%%0000'"
    "   THEN left(m.code, 2) WHEN m.code LIKE '%%00' THEN left(m.code, 4) ELSE m.code END))))"
)


def _in_scope(sites: Sequence[str] | None, scope: Scope | None) -> dict[str, Any]:
    return {"sites": None if sites is None else list(sites),
            "enterprises": list(scope.enterprises) if scope else [], "regions": list(scope.regions) if scope else []}


async def list_alarms(
    conn: psycopg.AsyncConnection, *, state: AlarmState, sites: Sequence[str] | None, site: str | None,
    since: datetime | None, limit: int, rule: str | None = None, scope: Scope | None = None,
) -> list[dict[str, Any]]:
    """Alarms of `sites` (None: all) and of the enterprises `scope` sees, newest first; `site` keeps one site's
    (not its enterprise's), `since` those raised, acknowledged or cleared since, `rule` those of one rule
    (stuck_value, out_of_range, ...)."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            _SELECT + f" WHERE {_IN_SITES}"
            " AND (%(state)s = 'all' OR a.state = %(state)s)"
            " AND (%(site)s::text IS NULL OR d.site_id = %(site)s)"
            " AND (%(rule)s::text IS NULL OR a.rule = %(rule)s)"
            " AND (%(since)s::timestamptz IS NULL OR GREATEST(a.raised_at, a.acknowledged_at, a.cleared_at)"
            "      >= %(since)s)"
            " ORDER BY a.raised_at DESC, a.alarm_id DESC LIMIT %(limit)s",
            {**_in_scope(sites, scope), "state": state, "site": site, "since": since, "limit": limit,
             "rule": rule},
        )
        return list(await cur.fetchall())


async def get_alarm(conn: psycopg.AsyncConnection, *, alarm_id: int, sites: Sequence[str] | None,
                    lock: bool = False, scope: Scope | None = None) -> dict[str, Any] | None:
    """One alarm when it is within `sites` (or about an enterprise `scope` sees), else None; `lock` holds its row
    until the transaction ends."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            _SELECT + f" WHERE a.alarm_id = %(id)s AND {_IN_SITES}" + (" FOR UPDATE OF a" if lock else ""),
            {"id": alarm_id, **_in_scope(sites, scope)},
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


async def raise_platform_alarm(conn: psycopg.AsyncConnection, *, rule: str, subject: str, detail: str,
                               severity: Literal["info", "warning", "critical"] = "warning",
                               enterprise_id: str | None = None, region_code: str | None = None) -> int:
    """Raise a platform alarm about `subject` (e.g. 'monitoring_sync:erp'), or refresh the detail of the one
    already active for the same rule and subject; returns its id. With `enterprise_id` the enterprise's users and
    its region's government users see it too; with `region_code` (GB/T 2260) the government users of that region
    and its parents."""
    cur = await conn.execute(
        "INSERT INTO alarms (rule, device_id, severity, detail, raised_at, source, enterprise_id, region_code)"
        " VALUES (%s, %s, %s, %s, now(), 'platform', %s, %s)"
        " ON CONFLICT (rule, device_id, point) WHERE state = 'active' DO UPDATE SET detail = EXCLUDED.detail,"
        " severity = EXCLUDED.severity, enterprise_id = EXCLUDED.enterprise_id,"
        " region_code = EXCLUDED.region_code RETURNING alarm_id",
        (rule, subject, severity, detail, enterprise_id, region_code))
    row = await cur.fetchone()
    assert row is not None
    return int(row[0])


async def clear_platform_alarm(conn: psycopg.AsyncConnection, *, rule: str, subject: str) -> bool:
    """Clear the active platform alarm of `rule` about `subject` (its cause is gone); False when none was active."""
    cur = await conn.execute(
        "UPDATE alarms SET state = 'cleared', cleared_at = now() WHERE rule = %s AND device_id = %s"
        " AND state = 'active' AND source = 'platform'", (rule, subject))
    return cur.rowcount > 0


async def clear_platform_alarms_except(conn: psycopg.AsyncConnection, *, rule: str, keep: Sequence[str]) -> list[str]:
    """Clear every active platform alarm of `rule` whose subject is not in `keep` (a checker's way to clear what no
    longer holds, including subjects that are gone); returns the subjects cleared."""
    cur = await conn.execute(
        "UPDATE alarms SET state = 'cleared', cleared_at = now() WHERE rule = %s AND state = 'active'"
        " AND source = 'platform' AND NOT device_id = ANY(%s::text[]) RETURNING device_id", (rule, list(keep)))
    return sorted(row[0] for row in await cur.fetchall())


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
