"""Bucket arithmetic shared by the queries that read the stream job's rollups: every rollup bucket is
`date_bin`'d from one origin, and a range is read from the coarsest rollup whose whole buckets fit in it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

__all__ = ["ORIGIN", "ORIGIN_TS", "cover", "floor_to"]

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
