"""A point's measurement range (points.range_low / range_high / range_source, 061_point_ranges.sql), as the API
reads and sets it by hand. Keyword-only arguments and a connection, no HTTP.

The limits are in the point's stored unit (`points.unit`, the unit of its rows in `readings`). A range set
here is `manual`, which the stream worker never overwrites; resetting it empties the range and its source, so
the worker's next alarm run fills in the device profile's range again (stream_jobs/point_ranges.py).

A counter's plausibility limit (`points.max_rise_per_h`, 091_plausibility.sql) is set and reset here too: a
hand-set one wins over the profile's, which wins over the default (carbon_domain.plausibility).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg
from psycopg.rows import dict_row

__all__ = ["get_range", "reset_range", "set_range", "set_rise_limit"]

_COLUMNS = ("p.device_id, p.point, p.unit, p.range_low, p.range_high, p.range_source, d.site_id,"
            " d.profile, p.kind, p.normalised, p.source_unit, p.max_rise_per_h")
_IN_SITES = "(%(sites)s::text[] IS NULL OR d.site_id = ANY(%(sites)s::text[]))"


async def get_range(conn: psycopg.AsyncConnection, *, device: str, point: str, sites: Sequence[str] | None,
                    lock: bool = False) -> dict[str, Any] | None:
    """The point's range when its device is within `sites` (None: every site), else None; `lock` holds the
    point's row until the transaction ends."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            f"SELECT {_COLUMNS} FROM points p LEFT JOIN devices d USING (device_id)"
            f" WHERE p.device_id = %(device)s AND p.point = %(point)s AND {_IN_SITES}"
            + (" FOR UPDATE OF p" if lock else ""),
            {"device": device, "point": point, "sites": None if sites is None else list(sites)})
        return await cur.fetchone()


async def set_range(conn: psycopg.AsyncConnection, *, device: str, point: str, low: float | None,
                    high: float | None) -> None:
    """Set the range by hand (`manual`); the caller has checked that low < high where both are given."""
    await conn.execute("UPDATE points SET range_low = %s, range_high = %s, range_source = 'manual'"
                       " WHERE device_id = %s AND point = %s", (low, high, device, point))


async def reset_range(conn: psycopg.AsyncConnection, *, device: str, point: str) -> None:
    """Forget a range, so that the stream worker takes the profile's again (or none when the profile has none)."""
    await conn.execute("UPDATE points SET range_low = NULL, range_high = NULL, range_source = NULL"
                       " WHERE device_id = %s AND point = %s", (device, point))


async def set_rise_limit(conn: psycopg.AsyncConnection, *, device: str, point: str, limit: float | None) -> None:
    """Set a counter's rate-of-rise limit by hand (per hour, in its stored unit); None returns to the profile's
    or the default."""
    await conn.execute("UPDATE points SET max_rise_per_h = %s WHERE device_id = %s AND point = %s",
                       (limit, device, point))
