"""Recalculate a site's emissions and production intervals for a period from stored readings (after a factor
change, or to derive production intervals for data stored before they were kept).

It derives intervals exactly as the live sink does (same counter rules, same
activity formulas, factors resolved from the database at each interval's time),
replacing the stored emission rows of the period, and rebuilds the rollups per
device, process, site and enterprise of the buckets the period touches.
"""

from __future__ import annotations

import asyncio
import sys
from datetime import datetime
from typing import TextIO

import psycopg

from carbonflow.db.connect import async_connect_with_retry
from carbonflow.db.retention import raw_horizon
from stream_jobs.scope_rollups import rebuild_scope_rollups
from stream_jobs.sink import ReadingSink

__all__ = ["RecomputeRefused", "recompute_site", "run_recompute"]


class RecomputeRefused(ValueError):
    """The period cannot be recomputed (its raw readings were dropped by retention)."""


def _progress(out: TextIO, done: int, total: int, label: str) -> None:
    width = 30
    filled = width * done // max(total, 1)
    out.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} points {label:<30}")
    out.flush()


async def recompute_site(
    conn: psycopg.AsyncConnection, *, site: str, start: datetime, end: datetime, out: TextIO | None = None
) -> dict[str, float]:
    """Replace the site's emission rows with ts in [start, end]; returns tCO2 before and after."""
    horizon = await raw_horizon(conn)
    if horizon is not None:
        cur = await conn.execute("SELECT min(start_ts) FROM emissions WHERE site_id = %s AND ts >= %s AND ts <= %s",
                                 (site, start, end))
        first = (await cur.fetchone() or (None,))[0]
        if start < horizon or (first is not None and first < horizon):
            # recomputing would delete stored emissions and find no readings to derive them again from
            raise RecomputeRefused(f"raw readings before {horizon.isoformat()} were dropped by retention;"
                                   " recompute a period whose intervals start after that")
    sink = ReadingSink(conn)  # factors and site locations as stored now
    points = await sink.accounted_points(site)
    async with conn.transaction():
        cur = await conn.execute(
            "SELECT COALESCE(sum(tco2), 0) FROM emissions WHERE site_id = %s AND ts >= %s AND ts <= %s",
            (site, start, end))
        before = (await cur.fetchone())[0]
        for table in ("emissions", "activity_intervals"):  # production intervals follow the same counter rules
            await conn.execute(f"DELETE FROM {table} WHERE site_id = %s AND ts >= %s AND ts <= %s", (site, start, end))
        for i, (key, info) in enumerate(points):
            rows = [r for r in await sink.stretch_emissions(key, info, start, end) if start <= r[2] <= end]
            await sink.upsert_intervals(rows)
            if out is not None:
                _progress(out, i + 1, len(points), f"point {key}: {len(rows)} intervals")
        # the rows were replaced wholesale (deleted, then inserted): rebuild the site's scope rollups of the
        # period from them rather than adjusting them row by row
        await rebuild_scope_rollups(conn, site=site, start=start, end=end)
        cur = await conn.execute(
            "SELECT COALESCE(sum(tco2), 0) FROM emissions WHERE site_id = %s AND ts >= %s AND ts <= %s",
            (site, start, end))
        after = (await cur.fetchone())[0]
    if out is not None:
        out.write("\n")
    return {"points": float(len(points)), "tco2_before": before, "tco2_after": after}


def run_recompute(database_url: str, site: str, start: datetime, end: datetime) -> int:
    """CLI entry: recompute with a progress bar on stderr and a summary on stdout."""

    async def main() -> dict[str, float]:
        conn = await async_connect_with_retry(database_url, attempts=5, autocommit=True)
        try:
            return await recompute_site(conn, site=site, start=start, end=end, out=sys.stderr)
        finally:
            await conn.close()

    try:
        result = asyncio.run(main())
    except RecomputeRefused as exc:
        print(f"carbonflow recompute: {exc}", file=sys.stderr)
        return 2
    print(f"site {site}: {int(result['points'])} points recomputed; "
          f"tCO2 {result['tco2_before']:.6f} -> {result['tco2_after']:.6f}")
    return 0
