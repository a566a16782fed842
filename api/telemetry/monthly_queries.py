"""Monthly series of one point (GET /api/v1/series?interval=1mo): calendar months of a time zone, built from the
stream job's hourly rollups. Keyword-only arguments and a connection, no HTTP concerns.

A month aggregates the hourly rows that begin in it: the mean is weighted by each hour's valid readings, min and
max are the extremes, last is the newest valid value, counts and quality counts are added up and the quality is the
worst of its hours. A counter's increase chains each hour's first and last valid values to the newest valid value
before it (from the month before, too, so a month boundary loses nothing); a step down is taken as a reset to
zero, so the value after it counts in full. The accounting figures, which tell rollover, reset and meter
replacement apart, are the emissions API's; this increase is for looking at consumption month by month.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import psycopg

from carbon_domain import QUALITY_NAMES
from carbon_domain.periods import Period

__all__ = ["MAX_MONTHS", "Month", "as_columns", "month_windows", "point_series_monthly"]

MAX_MONTHS = 120  # ten years of months: at most 87,840 hourly rows read for one answer


@dataclass(frozen=True)
class Month:
    """A calendar month and the part of it the request covers, [start, end)."""

    period: Period
    month_start: datetime
    start: datetime
    end: datetime
    partial: bool  # the request begins or ends inside the month


def month_windows(start: datetime, end: datetime, tz: ZoneInfo, *, limit: int = MAX_MONTHS) -> list[Month]:
    """The calendar months of `tz` that [start, end) overlaps, each cut to it; ValueError beyond `limit` months."""
    first, last = start.astimezone(tz), (end - timedelta(microseconds=1)).astimezone(tz)  # end is not in it
    count = (last.year - first.year) * 12 + last.month - first.month + 1
    if count > limit:
        raise ValueError(f"monthly series are limited to {limit} months ({limit // 12} years); "
                         f"{first:%Y-%m} to {last:%Y-%m} in {tz.key} is {count}")
    months = []
    period = Period(first.year, first.month)
    while True:
        lo, hi = period.window(tz)
        if lo >= end:
            return months
        cut = (max(lo, start).astimezone(tz), min(hi, end).astimezone(tz))
        months.append(Month(period, lo, *cut, partial=cut != (lo, hi)))
        period = Period(hi.year, hi.month)


_POINT = ("SELECT p.point_key, p.unit, p.kind FROM points p LEFT JOIN devices d USING (device_id)"
          " WHERE p.device_id = %(device)s AND p.point = %(point)s"
          " AND (%(sites)s::text[] IS NULL OR d.site_id = ANY(%(sites)s::text[]))")

# the hourly rows of each month (i = its place in the request), read by primary key (point_key, bucket)
_HOURS = ("WITH months AS (SELECT * FROM unnest(%(lo)s::timestamptz[], %(hi)s::timestamptz[])"
          "   WITH ORDINALITY AS m(lo, hi, i)),"
          " hours AS (SELECT m.i, r.* FROM months m JOIN rollup_1h r"
          "   ON r.point_key = %(key)s AND r.bucket >= m.lo AND r.bucket < m.hi)")
_FIGURES = (_HOURS + " SELECT i, sum(sum) / NULLIF(sum(n_valid), 0), min(min), max(max),"
            " (array_agg(last_value ORDER BY bucket DESC) FILTER (WHERE last_value IS NOT NULL))[1],"
            " sum(n)::bigint, sum(n_valid)::bigint, max(worst_quality), sum(n_uncertain)::bigint,"
            " sum(n_bad)::bigint, count(*) FROM hours GROUP BY i ORDER BY i")
# a step from a to b: b - a when the counter rose, b (a reset to zero) when it fell, nothing without an a
_STEP = "CASE WHEN {a} IS NULL THEN 0 WHEN {b} >= {a} THEN {b} - {a} ELSE {b} END"
_INCREASE = (
    _HOURS + ", valid AS (SELECT i, bucket, first_value, last_value, min,"
    "   COALESCE(lag(last_value) OVER (ORDER BY bucket), (SELECT b.last_value FROM rollup_1h b"
    "     WHERE b.point_key = %(key)s AND b.bucket < (%(lo)s::timestamptz[])[1] AND b.last_value IS NOT NULL"
    "     ORDER BY b.bucket DESC LIMIT 1)) AS before FROM hours WHERE last_value IS NOT NULL)"
    " SELECT i, sum(" + _STEP.format(a="before", b="first_value") + " + CASE WHEN min < first_value"
    "   THEN last_value ELSE last_value - first_value END),"
    " (count(*) FILTER (WHERE first_value < before) + count(*) FILTER (WHERE min < first_value))::bigint"
    " FROM valid GROUP BY i"
)


async def point_series_monthly(
    conn: psycopg.AsyncConnection, *, device: str, point: str, months: Sequence[Month], sites: Sequence[str] | None,
) -> dict[str, Any] | None:
    """Calendar-month buckets of one point (see the module's docstring); None when the point is unknown or outside
    `sites`. Months without any hourly rollup row are left out, as empty buckets are at the other intervals."""
    cur = await conn.execute(_POINT, {"device": device, "point": point,
                                      "sites": None if sites is None else list(sites)})
    found = await cur.fetchone()
    if found is None:
        return None
    key, unit, kind = found
    params = {"key": key, "lo": [m.start for m in months], "hi": [m.end for m in months]}
    cur = await conn.execute(_FIGURES, params)
    figures = await cur.fetchall()
    counter = kind == "counter"
    increases: dict[int, tuple[float, int]] = {}
    if counter:
        cur = await conn.execute(_INCREASE, params)
        increases = {i: (inc, drops) for i, inc, drops in await cur.fetchall()}
    rows = []
    for i, mean, lo, hi, last, n, n_valid, worst, uncertain, bad, hours in figures:
        month = months[i - 1]
        increase, drops = increases.get(i, (None, 0))
        rows.append({
            "ts": month.month_start, "month": month.period.label, "start": month.start, "end": month.end,
            "partial": month.partial,
            "value": last if counter else mean, "mean": mean, "min": lo, "max": hi, "last": last,
            "increase": increase if counter else None, "counter_drops": drops if counter else None,
            "count": n, "valid": n_valid, "hours": hours,
            "quality": QUALITY_NAMES[worst], "quality_counts": {"good": n - uncertain - bad, "uncertain": uncertain,
                                                                "bad": bad},
        })
    return {"device": device, "point": point, "unit": unit, "kind": kind, "interval": "1mo",
            "timezone": str(months[0].month_start.tzinfo) if months else None,
            "points": rows}



_FIELDS = ("ts", "month", "start", "end", "partial", "value", "mean", "min", "max", "last", "increase",
           "counter_drops", "count", "valid", "hours", "quality")


def as_columns(series: dict[str, Any]) -> dict[str, Any]:
    """A monthly series with one array per field (`columns`, quality_counts split into good, uncertain and bad)
    instead of one object per month (`points`), as format=columns gives the other intervals."""
    rows = series["points"]
    columns: dict[str, Any] = {f: [r[f] for r in rows] for f in _FIELDS}
    columns["quality_counts"] = {q: [r["quality_counts"][q] for r in rows] for q in ("good", "uncertain", "bad")}
    return {k: v for k, v in series.items() if k != "points"} | {"columns": columns}
