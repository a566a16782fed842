"""Bucket arithmetic shared by the queries that read the stream job's rollups: every rollup bucket is
`date_bin`'d from one origin, a range is read from the coarsest rollup whose whole buckets fit in it, and
local days are read only from rollups whose buckets never straddle a local midnight."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

__all__ = ["ORIGIN", "ORIGIN_TS", "cover", "floor_to", "local_day_tiers"]

ORIGIN = "2000-01-01T00:00:00+00:00"  # the date_bin origin of every rollup bucket (UTC)
ORIGIN_TS = datetime.fromisoformat(ORIGIN)


def floor_to(ts: datetime, width: timedelta) -> datetime:
    """The start of the bucket of `width` that holds `ts`."""
    return ts - (ts - ORIGIN_TS) % width


def cover(lo: datetime, hi: datetime, tiers: Sequence[tuple[str, timedelta]]) -> list[tuple[str | None, datetime,
                                                                                           datetime]]:
    """[lo, hi) as consecutive pieces read from the coarsest table of `tiers` (coarsest first) whose whole
    buckets fit, finer ones at the edges and the source rows (None) for what is left: (table, start, end)."""
    if lo >= hi:
        return []
    if not tiers:
        return [(None, lo, hi)]
    (table, width), finer = tiers[0], tiers[1:]
    first, last = floor_to(lo, width), floor_to(hi, width)
    first = first if first == lo else first + width
    if first >= last:
        return cover(lo, hi, finer)
    return [*cover(lo, first, finer), (table, first, last), *cover(last, hi, finer)]


def _local_day_starts(start: datetime, end: datetime, tz: ZoneInfo) -> list[datetime]:
    """The starts of the local days of `tz` that [start, end) touches (as PostgreSQL's date_trunc('day', t, tz))."""
    day, last = start.astimezone(tz).date(), end.astimezone(tz).date()
    starts = []
    while day <= last:
        starts.append(datetime.combine(day, time(0), tzinfo=tz))
        day += timedelta(days=1)
    return starts


def local_day_tiers(start: datetime, end: datetime, tz: ZoneInfo,
                    tiers: Sequence[tuple[str, timedelta]]) -> list[tuple[str, timedelta]]:
    """The `tiers` whose buckets never straddle a local midnight of `tz` in [start, end), so that grouping their
    rows by local day is exact: every local midnight of the range is a whole bucket from ORIGIN. Hours qualify in
    Asia/Shanghai and across DST in Europe/Berlin, days only where local days are UTC days, neither in
    Asia/Kolkata (midnight at hh:30 UTC), where the caller reads finer rows."""
    starts = _local_day_starts(start, end, tz)
    return [(table, width) for table, width in tiers if all((s - ORIGIN_TS) % width == timedelta(0) for s in starts)]
