"""How emission figures are cut up for reading: by scope of the source, and into local days or months.

A site's emissions are shown by source (the accounting activity: electricity, natural gas, ...), each in its
scope (直接排放 scope 1: fuel burnt on site; 间接排放 scope 2: purchased electricity and heat), and over a period
in calendar buckets of the reader's time zone. An interval counts in the bucket its end time falls in.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Literal, NamedTuple
from zoneinfo import ZoneInfo

from carbon_domain.accounting import EMITTING_ACTIVITIES
from carbon_domain.errors import FormulaInputError

__all__ = ["DIRECT", "INDIRECT", "Bucket", "BucketSize", "activity_scope", "calendar_buckets"]

DIRECT, INDIRECT = "scope1", "scope2"
BucketSize = Literal["day", "month"]
# purchased energy is an indirect (scope 2) emission; everything burnt on site is direct (scope 1)
_PURCHASED = frozenset({"electricity", "heat"})


class Bucket(NamedTuple):
    """One calendar bucket: its label (2026-05-10 or 2026-05) and its [start, end) in absolute time."""

    label: str
    start: datetime
    end: datetime


def activity_scope(activity: str) -> str:
    """'scope1' (fuel burnt on site) or 'scope2' (purchased electricity or heat) of an emitting activity."""
    if activity not in EMITTING_ACTIVITIES:
        raise FormulaInputError(f"unknown activity {activity!r}; known: {', '.join(sorted(EMITTING_ACTIVITIES))}")
    return INDIRECT if activity in _PURCHASED else DIRECT


def _next(day: date, size: BucketSize) -> date:
    if size == "day":
        return day + timedelta(days=1)
    return date(day.year + (day.month == 12), day.month % 12 + 1, 1)


def calendar_buckets(start: datetime, end: datetime, tz: ZoneInfo, size: BucketSize) -> list[Bucket]:
    """The local days or months of `tz` that [start, end) touches, each cut to [start, end) (so the first and
    last may be partial); a day is 23 or 25 hours long across a DST change.

    >>> from datetime import timezone
    >>> utc8 = ZoneInfo("Asia/Shanghai")
    >>> [b.label for b in calendar_buckets(datetime(2026, 1, 30, tzinfo=utc8), datetime(2026, 3, 2, tzinfo=utc8),
    ...                                    utc8, "month")]
    ['2026-01', '2026-02', '2026-03']
    """
    if end <= start:
        raise FormulaInputError(f"end {end.isoformat()} must be after start {start.isoformat()}")
    first = start.astimezone(tz).date()
    day = first if size == "day" else first.replace(day=1)
    buckets = []
    while True:
        lo = datetime.combine(day, time(0), tzinfo=tz)
        if lo >= end:
            return buckets
        following = _next(day, size)
        hi = datetime.combine(following, time(0), tzinfo=tz)
        label = day.isoformat() if size == "day" else day.isoformat()[:7]
        buckets.append(Bucket(label, max(lo, start), min(hi, end)))
        day = following
