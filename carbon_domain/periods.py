"""Calendar periods for year-on-year (同比) and month-on-month (环比) comparisons, and the change between two
figures. Pure functions, no I/O.

    >>> p = parse_period("2026-10")
    >>> (p.label, previous_period(p, "mom").label, previous_period(p, "yoy").label)
    ('2026-10', '2026-09', '2025-10')
    >>> change(12.0, 10.0)["relative_change"]
    0.2
    >>> tz = ZoneInfo("Asia/Shanghai")
    >>> same_span_end(p, previous_period(p, "mom"), datetime(2026, 10, 10, 14, tzinfo=tz), tz).isoformat()
    '2026-09-10T14:00:00+08:00'
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

__all__ = ["Basis", "Period", "change", "parse_period", "previous_period", "same_span_end"]

Basis = Literal["yoy", "mom"]
_PERIOD = re.compile(r"^(\d{4})(?:-(\d{2}))?$")
_FIRST_YEAR, _LAST_YEAR = 2000, 2100


@dataclass(frozen=True)
class Period:
    """A calendar month (month 1..12) or a whole year (month None)."""

    year: int
    month: int | None = None

    @property
    def label(self) -> str:
        return f"{self.year:04d}" if self.month is None else f"{self.year:04d}-{self.month:02d}"

    def window(self, tz: ZoneInfo) -> tuple[datetime, datetime]:
        """[start, end) of the period in local time of `tz`."""
        if self.month is None:
            return datetime(self.year, 1, 1, tzinfo=tz), datetime(self.year + 1, 1, 1, tzinfo=tz)
        after = (self.year + 1, 1) if self.month == 12 else (self.year, self.month + 1)
        return datetime(self.year, self.month, 1, tzinfo=tz), datetime(*after, 1, tzinfo=tz)


def parse_period(text: str) -> Period:
    """A period from 'YYYY-MM' or 'YYYY'; ValueError with a message otherwise."""
    found = _PERIOD.match(text)
    if not found:
        raise ValueError(f"period {text!r} is neither a month (YYYY-MM, e.g. 2026-10) nor a year (YYYY)")
    year, month = int(found[1]), None if found[2] is None else int(found[2])
    if not _FIRST_YEAR <= year <= _LAST_YEAR:
        raise ValueError(f"period {text!r}: the year must be between {_FIRST_YEAR} and {_LAST_YEAR}")
    if month is not None and not 1 <= month <= 12:
        raise ValueError(f"period {text!r}: the month must be 01 to 12")
    if year == _FIRST_YEAR and (month in (None, 1)):
        raise ValueError(f"period {text!r} has no previous period to compare with")
    return Period(year, month)


def previous_period(period: Period, basis: Basis) -> Period:
    """The base of a comparison: the same period a year before (yoy) or the month before (mom); ValueError
    for month-on-month of a whole year."""
    if basis == "yoy":
        return Period(period.year - 1, period.month)
    if period.month is None:
        raise ValueError(f"month-on-month needs a month (YYYY-MM), not the year {period.label}; use basis=yoy")
    return Period(period.year - 1, 12) if period.month == 1 else Period(period.year, period.month - 1)


def change(current: float | None, previous: float | None) -> dict[str, Any]:
    """Current, previous, absolute and relative change (a fraction: 0.2 is +20 %); the relative change is null
    with a note when the base is 0 or missing."""
    if current is None or previous is None:
        return {"current": current, "previous": previous, "change": None, "relative_change": None,
                "note": "not comparable: a figure is missing in one of the periods"}
    out: dict[str, Any] = {"current": current, "previous": previous, "change": current - previous,
                           "relative_change": None, "note": None}
    if previous == 0:
        out["note"] = "no relative change: the base period's figure is 0"
    else:
        out["relative_change"] = (current - previous) / previous
    return out


def same_span_end(period: Period, base: Period, cut: datetime, tz: ZoneInfo) -> datetime:
    """Where `base` stops when `period` is cut at `cut` (month or year to date): the same local date and time,
    moved back by whole months (the 10th at 14:00 of the month before, or of the year before), and the whole base
    period when that date is not in it (31 October's share of September is all of September). ValueError when
    `cut` is outside `period`."""
    start, end = period.window(tz)
    if not start <= cut <= end:
        raise ValueError(f"the cut {cut.isoformat()} is not within {period.label} "
                         f"({start.isoformat()} to {end.isoformat()})")
    base_start, base_end = base.window(tz)
    local = cut.astimezone(tz)
    months_back = (start.year - base_start.year) * 12 + start.month - base_start.month
    year, month0 = divmod(local.year * 12 + local.month - 1 - months_back, 12)
    try:
        moved = local.replace(year=year, month=month0 + 1)
    except ValueError:  # no such day in the base month (30 February): the base month is over by then
        return base_end
    return min(max(moved, base_start), base_end)
