"""Read queries of telemetry: a point's series, the newest values and the rows of an export. Keyword-only
arguments and a connection, no HTTP concerns."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
from psycopg.rows import dict_row

from api.site_filter import IN_SITES as _IN_SITES
from api.site_filter import site_list as _list
from api.telemetry.buckets import ORIGIN, cover, local_day_tiers
from carbon_domain import QUALITY_NAMES
from carbon_domain.counters import counter_increase_sql
from device_profiles.point_rules import point_rollover

__all__ = [
    "INTERVALS",
    "export_point",
    "export_rows",
    "last_readings",
    "latest_point_values",
    "latest_values",
    "point_series",
    "point_series_columns",
]

INTERVALS = {"1m": timedelta(minutes=1), "1h": timedelta(hours=1), "1d": timedelta(days=1)}
# Raw readings are read through cf_point_readings / cf_point_last (076_reading_functions.sql), which see hot rows
# and compacted blocks alike over [from, to); "newer than t" is from t plus timestamptz's resolution.
_AFTER = "interval '1 microsecond'"


# rollup tables kept by the stream job (004_rollups.sql), coarsest first; buckets are date_bin'd from ORIGIN
_ROLLUPS = (("rollup_1h", timedelta(hours=1)), ("rollup_1m", timedelta(minutes=1)))
# one row per rollup bucket, or per reading, as partial aggregates that merge by sum/min/max/latest
_ROLLUP_PART = ("SELECT bucket AS t, n, n_valid, sum, min, max, last_ts, last_value, worst_quality, n_uncertain,"
                " n_bad FROM {table}"
                " WHERE point_key = %(key)s AND bucket >= %({lo})s AND bucket < %({hi})s")
_HAS_ROLLUP = "SELECT 1 FROM {table} WHERE point_key = %(key)s AND bucket >= %({lo})s AND bucket < %({hi})s"
# whole rollup buckets of the requested width, in the answer's columns
_DIRECT = ("SELECT bucket, sum / NULLIF(n_valid, 0), min, max, last_value, n::bigint, worst_quality,"
           " n_uncertain::bigint, n_bad::bigint FROM {table}"
           " WHERE point_key = %(key)s AND bucket >= %({lo})s AND bucket < %({hi})s")
_RAW_PART = ("SELECT ts AS t, 1 AS n, (quality < 2 AND value IS NOT NULL)::int AS n_valid,"
             " CASE WHEN quality < 2 THEN value END AS sum, CASE WHEN quality < 2 THEN value END AS min,"
             " CASE WHEN quality < 2 THEN value END AS max,"
             " CASE WHEN quality < 2 AND value IS NOT NULL THEN ts END AS last_ts,"
             " CASE WHEN quality < 2 THEN value END AS last_value, quality AS worst_quality,"
             " (quality = 1)::int AS n_uncertain, (quality = 2)::int AS n_bad"
             " FROM cf_point_readings(%(key)s, %({lo})s, %({hi})s) WHERE true")  # callers add AND ...
# buckets of 1m and 1h: date_bin from ORIGIN (UTC); of 1d: the caller's local day (date_trunc in %(tz)s)
_UTC_BUCKET = "date_bin(%(width)s, t, %(origin)s::timestamptz)"
_LOCAL_DAY = "date_trunc('day', t, %(tz)s)"
_MERGE = ("SELECT {bucket} AS bucket, sum(sum) / NULLIF(sum(n_valid), 0),"
          " min(min), max(max), (array_agg(last_value ORDER BY last_ts DESC)"
          " FILTER (WHERE last_value IS NOT NULL))[1], sum(n)::bigint, max(worst_quality), sum(n_uncertain)::bigint,"
          " sum(n_bad)::bigint FROM ({parts}) AS parts"
          " GROUP BY 1")


def _bucketed_series_sql(start: datetime, end: datetime, interval: str,
                         tz: str = "UTC") -> tuple[str, dict[str, Any]]:
    """One statement answering a bucketed series from the rollups, with the same buckets and figures as
    grouping the raw readings in [start, end) would give (partial edge buckets included): date_bin from ORIGIN
    for 1m and 1h, the local days of `tz` for 1d."""
    width = INTERVALS[interval]
    local_day = interval == "1d"
    tiers = (local_day_tiers(start, end, ZoneInfo(tz), _ROLLUPS) if local_day
             else [t for t in _ROLLUPS if t[1] <= width])
    pieces = cover(start, end, tiers)
    params: dict[str, Any] = {"width": width, "origin": ORIGIN, "tz": tz}
    direct: list[str] = []
    merged: list[str] = []
    for i, (table, lo, hi) in enumerate(pieces):
        params[f"lo{i}"], params[f"hi{i}"] = lo, hi
        bounds = {"lo": f"lo{i}", "hi": f"hi{i}"}
        raw = _RAW_PART.format(**bounds)
        if table is None:
            merged.append(raw)
            continue
        rolled = _ROLLUP_PART.format(table=table, **bounds)
        # a stretch without any rollup row (readings stored before 004_rollups, or written around the stream
        # job) is read raw; the NOT EXISTS is a one-time filter, so covered stretches never touch readings
        merged.append(f"{raw} AND NOT EXISTS ({_HAS_ROLLUP.format(table=table, **bounds)})")
        if dict(_ROLLUPS)[table] == width and not local_day:
            # whole buckets of the requested width are already the answer
            direct.append(_DIRECT.format(table=table, **bounds))
        else:
            merged.append(rolled)
    parts = [f"({sql})" for sql in direct]
    if merged:
        parts.append("(" + _MERGE.format(bucket=_LOCAL_DAY if local_day else _UTC_BUCKET,
                                         parts=" UNION ALL ".join(f"({sql})" for sql in merged)) + ")")
    return " UNION ALL ".join(parts) + " ORDER BY 1", params


async def _series_point(conn: psycopg.AsyncConnection, *, device: str, point: str,
                        sites: Sequence[str] | None) -> tuple[int, str, str] | None:
    """(point_key, unit, kind) of a point of `sites`; None when unknown or outside them."""
    cur = await conn.execute(
        "SELECT p.point_key, p.unit, p.kind FROM points p LEFT JOIN devices d USING (device_id)"
        f" WHERE p.device_id = %(device)s AND p.point = %(point)s AND {_IN_SITES.format(column='d.site_id')}",
        {"device": device, "point": point, "sites": _list(sites)},
    )
    return await cur.fetchone()  # type: ignore[return-value]


async def _raw_rows(conn: psycopg.AsyncConnection, *, key: int, start: datetime,
                    end: datetime) -> list[tuple[Any, ...]]:
    """Raw rows (ts, value, quality) of one point, oldest first (bucketed series: _series_buckets)."""
    # binary rows: parsing timestamps as text took half the time
    async with conn.cursor(binary=True) as cur:
        await cur.execute("SELECT ts, value, quality FROM cf_point_readings(%(key)s, %(lo)s, %(hi)s)"
                          " ORDER BY ts LIMIT 100000", {"key": key, "lo": start, "hi": end})
        return await cur.fetchall()


# a bucketed series as one row of arrays in bucket order (an aggregate over a sorted subquery takes its rows in
# that order: PostgreSQL's documented alternative to ORDER BY inside each aggregate, which sorts once per array).
# A year by hour is then nine arrays, not 8,760 row tuples: building and garbage-collecting those tuples was most
# of the year's series, and its slow tail. value is the last reading for counters and the mean for gauges.
_AS_COLUMNS = ("SELECT array_agg(bucket), array_agg(CASE WHEN %(counter)s THEN last ELSE avg END), array_agg(lo),"
               " array_agg(hi), array_agg(n), array_agg(q), array_agg(n - nu - nb), array_agg(nu), array_agg(nb)"
               " FROM ({sql}) AS buckets (bucket, avg, lo, hi, last, n, q, nu, nb)")
_COLUMNS = ("ts", "value", "min", "max", "count", "quality", "good", "uncertain", "bad")


async def _series_buckets(conn: psycopg.AsyncConnection, *, key: int, start: datetime, end: datetime,
                          interval: str, counter: bool, tz: str) -> dict[str, list[Any]]:
    """The buckets of one point, oldest first, one list per field of _COLUMNS (quality as its name)."""
    sql, params = _bucketed_series_sql(start, end, interval, tz)
    # binary: a year by hour is 8,760 timestamps, and parsing them as text took half the time
    async with conn.cursor(binary=True) as cur:
        await cur.execute(_AS_COLUMNS.format(sql=sql), {**params, "key": key, "counter": counter})
        found = await cur.fetchone()
    columns = dict(zip(_COLUMNS, (c or [] for c in found or [None] * len(_COLUMNS)), strict=True))
    columns["quality"] = [QUALITY_NAMES[q] for q in columns["quality"]]
    return columns


async def point_series(
    conn: psycopg.AsyncConnection, *, device: str, point: str, start: datetime, end: datetime, interval: str,
    sites: Sequence[str] | None, tz: str = "Asia/Shanghai",
) -> dict[str, Any] | None:
    """Raw or bucketed values of one point; None when the point is unknown or outside `sites`. Buckets (1m, 1h,
    1d) come from the stream job's rollups, with raw readings only for the partial minutes at the edges; 1m and 1h
    are UTC minutes and hours, 1d the local days of `tz`."""
    found = await _series_point(conn, device=device, point=point, sites=sites)
    if found is None:
        return None
    key, unit, kind = found
    if interval == "raw":
        found_rows = await _raw_rows(conn, key=key, start=start, end=end)
        rows = [{"ts": ts, "value": v, "quality": QUALITY_NAMES[q]} for ts, v, q in found_rows]
    else:
        c = await _series_buckets(conn, key=key, start=start, end=end, interval=interval, counter=kind == "counter",
                                  tz=tz)
        rows = [
            {"ts": b, "value": v, "min": lo, "max": hi, "count": n, "quality": q,
             "quality_counts": {"good": good, "uncertain": nu, "bad": nb}}
            for b, v, lo, hi, n, q, good, nu, nb in zip(*(c[f] for f in _COLUMNS), strict=True)
        ]
    return {"device": device, "point": point, "unit": unit, "kind": kind, "interval": interval, "points": rows}


async def point_series_columns(
    conn: psycopg.AsyncConnection, *, device: str, point: str, start: datetime, end: datetime, interval: str,
    sites: Sequence[str] | None, tz: str = "Asia/Shanghai",
) -> dict[str, Any] | None:
    """`point_series` with one array per field instead of one object per point (`columns` instead of
    `points`): the same figures, without building a dict for each of a year's 8,760 hours."""
    found = await _series_point(conn, device=device, point=point, sites=sites)
    if found is None:
        return None
    key, unit, kind = found
    head = {"device": device, "point": point, "unit": unit, "kind": kind, "interval": interval}
    if interval == "raw":
        found_rows = await _raw_rows(conn, key=key, start=start, end=end)
        ts, values, quality = (list(c) for c in zip(*found_rows, strict=True)) if found_rows else ([], [], [])
        return {**head, "columns": {"ts": ts, "value": values, "quality": [QUALITY_NAMES[q] for q in quality]}}
    c = await _series_buckets(conn, key=key, start=start, end=end, interval=interval, counter=kind == "counter",
                              tz=tz)
    return {**head, "columns": {
        "ts": c["ts"], "value": c["value"], "min": c["min"], "max": c["max"], "count": c["count"],
        "quality": c["quality"], "quality_counts": {"good": c["good"], "uncertain": c["uncertain"], "bad": c["bad"]},
    }}


async def latest_values(
    conn: psycopg.AsyncConnection, *, within: timedelta, sites: Sequence[str] | None
) -> list[dict[str, Any]]:
    """The newest reading of every point of `sites` seen within `within`."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            "SELECT p.device_id AS device, p.point, p.unit, p.kind, r.ts, r.value, r.quality FROM points p"
            " CROSS JOIN LATERAL cf_point_last(p.point_key, now() - %(within)s + " + _AFTER + ", 'infinity') r"
            " LEFT JOIN devices d ON d.device_id = p.device_id"
            f" WHERE {_IN_SITES.format(column='d.site_id')}"
            " ORDER BY p.device_id, p.point",
            {"within": within, "sites": _list(sites)},
        )
        rows = list(await cur.fetchall())
    for row in rows:
        row["quality"] = QUALITY_NAMES[row["quality"]]
    return rows


# --- dashboards: live values, export ------------------------------------------


async def last_readings(conn: psycopg.AsyncConnection, *,
                        points: Sequence[tuple[str, str]]) -> dict[tuple[str, str], dict[str, Any]]:
    """The newest reading, of any age, of each (device, point) given, with its unit and quality (ts, value and
    quality null when it has none yet); one index probe per point. Unknown points are missing from the answer."""
    if not points:
        return {}
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            "SELECT p.device_id AS device, p.point, p.unit, r.ts, r.value, r.quality"
            " FROM unnest(%(devices)s::text[], %(points)s::text[]) AS w(device_id, point)"
            " JOIN points p ON p.device_id = w.device_id AND p.point = w.point"
            " LEFT JOIN LATERAL cf_point_last(p.point_key, '-infinity', 'infinity') r ON true",
            {"devices": [d for d, _ in points], "points": [p for _, p in points]})
        rows = list(await cur.fetchall())
    return {(row["device"], row["point"]): {
        **row, "quality": None if row["quality"] is None else QUALITY_NAMES[row["quality"]]} for row in rows}


async def latest_point_values(
    conn: psycopg.AsyncConnection, *, within: timedelta, sites: Sequence[str] | None, site: str | None = None,
) -> list[dict[str, Any]]:
    """The newest reading (within `within`) of every point of `sites`, or of the one `site`, with the device's
    site and process; one index probe per point, so it stays cheap when called every second."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            "SELECT p.device_id AS device, p.point, p.unit, p.kind, p.activity, d.site_id AS site, d.process,"
            " r.ts, r.value, r.quality"
            " FROM points p JOIN devices d ON d.device_id = p.device_id"
            " CROSS JOIN LATERAL cf_point_last(p.point_key, now() - %(within)s + " + _AFTER + ", 'infinity') r"
            f" WHERE {_IN_SITES.format(column='d.site_id')} AND (%(site)s::text IS NULL OR d.site_id = %(site)s)"
            " ORDER BY p.device_id, p.point",
            {"within": within, "sites": _list(sites), "site": site},
        )
        rows = list(await cur.fetchall())
    for row in rows:
        row["quality"] = QUALITY_NAMES[row["quality"]]
    return rows


# the increase of a counter point ({key}) in [start, end): per-reading deltas from the last good reading before
# `start` on, by the stream job's rules (carbon_domain.counters: rollover near %(rollover)s, reset, replacement);
# of readings at the same time the first stored counts, as in the stream job. Implausible readings are stored
# bad and left out, except the rises a person accepted (implausible_readings, as the stream job's recompute).
_COUNTER_DELTAS = (
    "SELECT ts, " + counter_increase_sql("prev", "value", "%(rollover)s::float8") + " AS delta FROM ("
    "  SELECT ts, value, lag(value) OVER (ORDER BY ts) AS prev FROM (SELECT DISTINCT ON (ts) ts, value FROM ("
    "    (SELECT ts, value, seq FROM cf_point_last({key}, '-infinity', %(start)s, 1, true))"
    "    UNION ALL (SELECT ts, value, seq FROM cf_point_readings({key}, %(start)s, %(end)s)"
    "      WHERE quality < 2 AND value IS NOT NULL)"
    "    UNION ALL (SELECT ts, value, seq FROM implausible_readings WHERE point_key = {key} AND state = 'accepted'"
    "      AND ts < %(end)s)) AS base ORDER BY ts, seq) AS firsts) AS steps"
    " WHERE prev IS NOT NULL AND ts >= %(start)s"
)


async def export_point(conn: psycopg.AsyncConnection, *, device: str, point: str, start: datetime, end: datetime,
                       sites: Sequence[str] | None) -> dict[str, Any] | None:
    """What an export of one point needs before its rows: the point, its site, its register's rollover and the
    factor rows its emissions in [start, end) used; None when unknown or outside `sites`."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            "SELECT p.point_key, p.device_id AS device, p.point, p.unit, p.kind, p.activity, d.site_id AS site,"
            " d.process, d.profile, p.source_unit, p.normalised FROM points p LEFT JOIN devices d USING (device_id)"
            f" WHERE p.device_id = %(device)s AND p.point = %(point)s AND {_IN_SITES.format(column='d.site_id')}",
            {"device": device, "point": point, "sites": _list(sites)},
        )
        found = await cur.fetchone()
        if found is None:
            return None
        found["rollover"] = point_rollover(found.pop("profile"), found["point"], unit=found["unit"],
                                           source_unit=found.pop("source_unit"), normalised=found.pop("normalised"))
        await cur.execute(
            "SELECT f.factor_id, f.key, f.value, f.unit, f.series, f.source FROM factors f"
            " WHERE f.factor_id IN (SELECT DISTINCT unnest(factor_ids) FROM emissions"
            "   WHERE point_key = %s AND ts >= %s AND ts < %s) ORDER BY f.factor_id",
            (found["point_key"], start, end),
        )
        found["factors"] = list(await cur.fetchall())
        await cur.execute(
            "SELECT DISTINCT formula FROM emissions WHERE point_key = %s AND ts >= %s AND ts < %s ORDER BY 1",
            (found["point_key"], start, end),
        )
        found["formulas"] = [r["formula"] for r in await cur.fetchall()]
    return found


_TRUNC = {"1m": "minute", "1h": "hour", "1d": "day"}


async def export_rows(
    conn: psycopg.AsyncConnection, *, point_key: int, kind: str, start: datetime, end: datetime, interval: str,
    tz: str, batch: int = 2000, rollover: float | None = None,
) -> AsyncIterator[list[tuple[Any, ...]]]:
    """Buckets of one point in [start, end), aligned to `tz`'s minutes, hours or days, in batches from a
    server-side cursor: (bucket, avg, min, max, last, readings, worst quality, increase, activity amount,
    activity unit, tCO2). `increase` only for counters, by the stream job's counter rules with the register's
    `rollover`; bad readings are left out of the values."""
    unit = _TRUNC[interval]
    increase = (
        "SELECT date_trunc(%(unit)s, ts, %(tz)s) AS bucket, sum(delta) AS increase FROM ("
        + _COUNTER_DELTAS.format(key="%(key)s") + ") AS deltas GROUP BY 1"
        if kind == "counter" else
        "SELECT NULL::timestamptz AS bucket, NULL::double precision AS increase WHERE false"
    )
    sql = (
        "WITH b AS (SELECT date_trunc(%(unit)s, ts, %(tz)s) AS bucket, avg(value) FILTER (WHERE quality < 2) AS avg,"
        "   min(value) FILTER (WHERE quality < 2) AS lo, max(value) FILTER (WHERE quality < 2) AS hi,"
        "   (array_agg(value ORDER BY ts DESC) FILTER (WHERE quality < 2 AND value IS NOT NULL))[1] AS last,"
        "   count(*) AS n, max(quality) AS q"
        "   FROM cf_point_readings(%(key)s, %(start)s, %(end)s) GROUP BY 1),"
        f" i AS ({increase}),"
        " e AS (SELECT date_trunc(%(unit)s, ts, %(tz)s) AS bucket, sum(quantity) AS qty, min(quantity_unit) AS qu,"
        "   sum(tco2) AS tco2 FROM emissions WHERE point_key = %(key)s AND ts >= %(start)s AND ts < %(end)s"
        "   GROUP BY 1)"
        " SELECT bucket, b.avg, b.lo, b.hi, b.last, COALESCE(b.n, 0), b.q, i.increase, e.qty, e.qu, e.tco2"
        " FROM b FULL JOIN i USING (bucket) FULL JOIN e USING (bucket) ORDER BY bucket"
    )
    params = {"unit": unit, "tz": tz, "key": point_key, "start": start, "end": end, "rollover": rollover}
    async with conn.transaction(), conn.cursor(name="cf_export") as cur:
        await cur.execute(sql, params)
        while rows := await cur.fetchmany(batch):
            yield [(b, avg, lo, hi, last, n, None if q is None else QUALITY_NAMES[q], inc, qty, qu, t)
                   for b, avg, lo, hi, last, n, q, inc, qty, qu, t in rows]
