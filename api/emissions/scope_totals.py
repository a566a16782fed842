"""Emission and production totals of sites, processes and devices, read from what the stream job stored.

The stream job keeps `scope_rollup_1h` and `scope_rollup_1d` (071_scope_rollups.sql) in the statement that
stores each emission and production interval, so a total never re-derives counter increases: whole UTC
days come from the day rollup, whole hours from the hour rollup, and what is left at the edges of a range
from the interval rows themselves (`emissions`, `activity_intervals`). An interval counts in the window
its interval ends in, as everywhere else. Day buckets are the caller's local days, read from the rollups
whose buckets never straddle a local midnight (api/buckets.local_day_tiers): hours in Asia/Shanghai and DST
zones, days in UTC, only interval rows in zones such as Asia/Kolkata. Sums are `numeric` until the end, as
in the rollups, so the figures equal sums over the interval rows (to float rounding) however the range is
split.

Keyword-only arguments and a connection, no HTTP concerns.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import psycopg

from api.telemetry.buckets import ORIGIN, cover, local_day_tiers
from api.telemetry.figures import DEFAULT_TZ
from carbon_domain import QUALITY_NAMES

__all__ = ["BUCKETS", "QUALITY_RANK", "enterprise_co2", "enterprise_production", "factor_versions", "process_figures", "scope_co2", "scope_co2_rows", "site_co2",
           "site_emission_provenance", "site_emissions", "site_production", "worst_quality"]

BUCKETS = {"1h": timedelta(hours=1), "1d": timedelta(days=1)}
QUALITY_RANK = {name: n for n, name in QUALITY_NAMES.items()}
"""Quality name -> rank, worse higher: for max(..., key=QUALITY_RANK.__getitem__)."""
# coarsest first; both are date_bin'd from ORIGIN, so a day is whole hours
_TIERS = (("scope_rollup_1d", timedelta(days=1)), ("scope_rollup_1h", timedelta(hours=1)))
# the bucket of a time `{t}` per interval: UTC hours from ORIGIN, local days of %(tz)s (as /series?interval=1d)
_BUCKET = {"1h": "date_bin(%(width)s, {t}, %(origin)s::timestamptz)", "1d": "date_trunc('day', {t}, %(tz)s)"}
_PRODUCTION = "production:"

# every part yields (t, key, activity, unit, quantity, tco2, intervals, n_uncertain, n_bad), the sums numeric
_ROLLUP = ("SELECT bucket AS t, scope_id AS key, activity, unit, quantity, tco2, intervals, n_uncertain, n_bad"
           " FROM {table} WHERE level = %(level)s AND scope_id = ANY(%(keys)s::text[])"
           " AND bucket >= %({lo})s AND bucket < %({hi})s AND {activities}")
_ROW = ("x.ts AS t, {key} AS key, x.activity, x.quantity_unit AS unit, x.quantity::numeric, {tco2} AS tco2,"
        " 1 AS intervals, (x.quality = 1)::int AS n_uncertain, (x.quality = 2)::int AS n_bad")
# interval rows by the scope the rollups give them: a site by the row's site, a device by its point's device
_KEYED = {
    "site": "SELECT {row} FROM {source} x WHERE x.site_id = ANY(%(keys)s::text[])",
    "device": ("SELECT {row} FROM {source} x JOIN points p ON p.point_key = x.point_key"
               " WHERE p.device_id = ANY(%(keys)s::text[])"),
}
_KEY_COLUMN = {"site": "x.site_id", "device": "p.device_id"}
_SOURCES = {
    "emissions": ("x.tco2::numeric", f"activity NOT LIKE '{_PRODUCTION}%%'"),
    "activity_intervals": ("0::numeric", f"activity LIKE '{_PRODUCTION}%%'"),
}


def _parts(*, level: str, source: str, keys: Sequence[str], start: datetime, end: datetime,
           tiers: Sequence[tuple[str, timedelta]] = _TIERS) -> tuple[str, dict[str, Any]]:
    """The UNION ALL of the pieces of [start, end) for `level` scopes `keys` and one source table, read from
    `tiers` (coarsest first) and the interval rows."""
    tco2, activities = _SOURCES[source]
    params: dict[str, Any] = {"level": level, "keys": list(keys)}
    parts = []
    for i, (table, lo, hi) in enumerate(cover(start, end, tiers)):
        params[f"lo{i}"], params[f"hi{i}"] = lo, hi
        if table is not None:
            parts.append(_ROLLUP.format(table=table, lo=f"lo{i}", hi=f"hi{i}", activities=activities))
        else:
            row = _ROW.format(key=_KEY_COLUMN[level], tco2=tco2)
            parts.append(_KEYED[level].format(row=row, source=source)
                         + f" AND x.ts >= %(lo{i})s AND x.ts < %(hi{i})s")
    return " UNION ALL ".join(f"({p})" for p in parts), params


def _bucket_tiers(interval: str, start: datetime, end: datetime, tz: str) -> list[tuple[str, timedelta]]:
    """The rollups that can answer buckets of `interval` over [start, end): the hour rollup for hours (a day
    rollup cannot answer them), for local days of `tz` those whose buckets never straddle a local midnight."""
    if interval == "1d":
        return local_day_tiers(start, end, ZoneInfo(tz), _TIERS)
    return [t for t in _TIERS if t[1] <= BUCKETS[interval]]


def worst_quality(n_uncertain: int, n_bad: int) -> str:
    """The worst quality among intervals of which `n_uncertain` were uncertain and `n_bad` bad."""
    return QUALITY_NAMES[2 if n_bad else 1 if n_uncertain else 0]


async def site_emission_provenance(conn: psycopg.AsyncConnection, *, site: str, start: datetime, end: datetime,
                                   interval: str, tz: str = DEFAULT_TZ,
                                   ) -> dict[tuple[datetime, str], tuple[list[str], list[str]]]:
    """(bucket, activity) -> (factor rows, formulas) of the site's emissions in [start, end), buckets as in
    `site_emissions`. The rollups hold no provenance, so this one reads the emission rows."""
    cur = await conn.execute(
        # distinct factor lists first (few per bucket), split afterwards: cheaper than unnesting every row
        f"SELECT {_BUCKET[interval].format(t='ts')}, activity,"
        " string_agg(DISTINCT array_to_string(factor_ids, ','), ','), array_agg(DISTINCT formula ORDER BY formula)"
        " FROM emissions WHERE site_id = %(site)s AND ts >= %(start)s AND ts < %(end)s GROUP BY 1, 2",
        {"width": BUCKETS[interval], "origin": ORIGIN, "tz": tz, "site": site, "start": start, "end": end},
    )
    return {(b, a): (sorted(set(filter(None, (fs or "").split(",")))), list(fm))
            for b, a, fs, fm in await cur.fetchall()}


async def site_emissions(conn: psycopg.AsyncConnection, *, site: str, start: datetime, end: datetime,
                         interval: str, tz: str = DEFAULT_TZ) -> list[dict[str, Any]]:
    """tCO2 per bucket and activity of a site, with the factor rows and formulas used and the intervals by
    quality; buckets are UTC hours (1h) or the local days of the IANA zone `tz` (1d), partial at the edges."""
    parts, params = _parts(level="site", source="emissions", keys=[site], start=start, end=end,
                           tiers=_bucket_tiers(interval, start, end, tz))
    cur = await conn.execute(
        f"SELECT {_BUCKET[interval].format(t='t')}, activity, sum(tco2)::float8,"
        " sum(quantity)::float8, min(unit), sum(intervals)::int, sum(n_uncertain)::int, sum(n_bad)::int"
        f" FROM ({parts}) x GROUP BY 1, 2 HAVING sum(intervals) > 0 ORDER BY 1, 2",
        {**params, "width": BUCKETS[interval], "origin": ORIGIN, "tz": tz},
    )
    rows = await cur.fetchall()
    provenance = await site_emission_provenance(conn, site=site, start=start, end=end, interval=interval, tz=tz)
    return [
        {"ts": b, "source": activity, "tco2": t, "activity_amount": q, "activity_unit": u,
         "factor_versions": provenance.get((b, activity), ([], []))[0],
         "formulas": provenance.get((b, activity), ([], []))[1], "quality": worst_quality(nu, nb), "intervals": n,
         "quality_counts": {"good": n - nu - nb, "uncertain": nu, "bad": nb}}
        for b, activity, t, q, u, n, nu, nb in rows
    ]


async def scope_co2_rows(conn: psycopg.AsyncConnection, *, sites: Sequence[str], start: datetime, end: datetime,
                         process: str | None = None) -> list[tuple[str, str, str, float, float, str, int]]:
    """(activity, process or '', unit, tCO2, activity amount, worst quality, intervals) of the devices of
    `sites` (optionally of one process) in [start, end), by the devices' process. Read from the device
    rollups: a device counts in the site and process it is in now."""
    cur = await conn.execute(
        "SELECT device_id FROM devices WHERE site_id = ANY(%s::text[]) AND (%s::text IS NULL OR process = %s)",
        (list(sites), process, process))
    devices = [r[0] for r in await cur.fetchall()]
    if not devices:
        return []
    parts, params = _parts(level="device", source="emissions", keys=devices, start=start, end=end)
    cur = await conn.execute(
        "SELECT x.activity, COALESCE(d.process, ''), x.unit, sum(x.tco2)::float8, sum(x.quantity)::float8,"
        " sum(x.intervals)::int, sum(x.n_uncertain)::int, sum(x.n_bad)::int"
        f" FROM ({parts}) x JOIN devices d ON d.device_id = x.key"
        " GROUP BY 1, 2, 3 HAVING sum(x.intervals) > 0 ORDER BY 1, 2, 3", params)
    return [(a, proc, unit, t, q, worst_quality(nu, nb), n) for a, proc, unit, t, q, n, nu, nb in await cur.fetchall()]


async def enterprise_co2(conn: psycopg.AsyncConnection, *, enterprise_id: str, start: datetime,
                         end: datetime) -> dict[str, Any] | None:
    """{tco2, intervals, quality, sites} of the devices of every site of the enterprise in [start, end), as
    `scope_co2` sums them; None when the pipeline stored no interval there."""
    cur = await conn.execute("SELECT site_id FROM sites WHERE enterprise_id = %s ORDER BY site_id", (enterprise_id,))
    sites = [r[0] for r in await cur.fetchall()]
    rows = await scope_co2_rows(conn, sites=sites, start=start, end=end) if sites else []
    if not rows:
        return None
    return {"tco2": sum(r[3] for r in rows), "intervals": sum(r[6] for r in rows),
            "quality": max((r[5] for r in rows), key=QUALITY_RANK.__getitem__), "sites": sites}


async def site_production(conn: psycopg.AsyncConnection, *, site: str, start: datetime,
                          end: datetime) -> list[dict[str, Any]]:
    """Per product and unit, the production in [start, end) of the site's counters bound to
    `production:<product>`, as the stream job derived it (a rollover, reset or replaced meter counted by its
    rules), with the number of such counters."""
    parts, params = _parts(level="site", source="activity_intervals", keys=[site], start=start, end=end)
    cur = await conn.execute(
        "WITH counters AS (SELECT p.activity, p.unit, count(*) AS n FROM points p"
        "   JOIN devices d ON d.device_id = p.device_id"
        f"  WHERE d.site_id = %(site)s AND p.activity LIKE '{_PRODUCTION}%%' GROUP BY 1, 2),"
        f" made AS (SELECT activity, unit, sum(quantity)::float8 AS amount FROM ({parts}) x GROUP BY 1, 2)"
        " SELECT substr(activity, %(skip)s), unit, COALESCE(c.n, 0), COALESCE(m.amount, 0)"
        " FROM counters c FULL JOIN made m USING (activity, unit) ORDER BY 1, 2",
        {**params, "site": site, "skip": len(_PRODUCTION) + 1},
    )
    return [{"product": product, "unit": unit, "counters": n, "amount": amount}
            for product, unit, n, amount in await cur.fetchall()]


async def enterprise_production(conn: psycopg.AsyncConnection, *, enterprise_id: str, start: datetime,
                                end: datetime) -> list[dict[str, Any]]:
    """`site_production` summed over every site of the enterprise: per product and unit, the amount, the number
    of counters and the sites that have them."""
    cur = await conn.execute("SELECT site_id FROM sites WHERE enterprise_id = %s ORDER BY site_id", (enterprise_id,))
    made: dict[tuple[str, str], dict[str, Any]] = {}
    for (site,) in await cur.fetchall():
        for row in await site_production(conn, site=site, start=start, end=end):
            got = made.setdefault((row["product"], row["unit"]), {"product": row["product"], "unit": row["unit"],
                                                                  "amount": 0.0, "counters": 0, "sites": []})
            got["amount"] += row["amount"]
            got["counters"] += row["counters"]
            got["sites"].append(site)
    return [made[k] for k in sorted(made)]


async def factor_versions(conn: psycopg.AsyncConnection, *, sites: Sequence[str], start: datetime, end: datetime,
                          process: str | None = None) -> list[str]:
    """The factor rows (factor_id) the emissions of `sites` (optionally of one process) in [start, end) used.
    The rollups hold no provenance, so this one reads the emission rows."""
    cur = await conn.execute(
        "SELECT DISTINCT unnest(e.factor_ids) FROM emissions e"
        " WHERE e.site_id = ANY(%(sites)s::text[]) AND e.ts >= %(start)s AND e.ts < %(end)s"
        " AND (%(process)s::text IS NULL OR e.point_key IN (SELECT p.point_key FROM points p"
        "   JOIN devices d ON d.device_id = p.device_id WHERE d.process = %(process)s)) ORDER BY 1",
        {"sites": list(sites), "start": start, "end": end, "process": process})
    return [r[0] for r in await cur.fetchall()]


async def scope_co2(conn: psycopg.AsyncConnection, *, sites: Sequence[str], start: datetime, end: datetime,
                    process: str | None = None) -> dict[str, Any]:
    """tCO2 of `sites` (optionally of one process's devices) in [start, end), in total, by source (activity,
    with its activity amount per unit) and by process (the emitting device's), with the factor versions used."""
    by_source: dict[str, dict[str, Any]] = {}
    by_process: dict[str, dict[str, Any]] = {}
    for activity, proc, unit, tco2, quantity, quality, n in await scope_co2_rows(conn, sites=sites, start=start,
                                                                                end=end, process=process):
        src = by_source.setdefault(activity, {"source": activity, "tco2": 0.0, "activity_amount": {},
                                              "intervals": 0, "quality": "good"})
        src["tco2"] += tco2
        # one activity is stored in one unit; should two ever meet, they are kept apart, not added
        src["activity_amount"][unit] = src["activity_amount"].get(unit, 0.0) + quantity
        src["intervals"] += n
        src["quality"] = max(src["quality"], quality, key=QUALITY_RANK.__getitem__)
        row = by_process.setdefault(proc, {"process": proc or None, "tco2": 0.0, "intervals": 0})
        row["tco2"] += tco2
        row["intervals"] += n
    return {
        "total_tco2": sum(r["tco2"] for r in by_source.values()),
        "by_source": sorted(by_source.values(), key=lambda r: -r["tco2"]),
        "by_process": sorted(by_process.values(), key=lambda r: -r["tco2"]),
        "factor_versions": await factor_versions(conn, sites=sites, start=start, end=end, process=process),
    }


async def site_co2(conn: psycopg.AsyncConnection, *, site: str, start: datetime, end: datetime) -> dict[str, Any]:
    """`scope_co2` of one site, each source's activity amount as one figure with its (first) unit, as the
    overview shows it."""
    co2 = await scope_co2(conn, sites=[site], start=start, end=end)
    for src in co2["by_source"]:
        amounts = src["activity_amount"]
        src["activity_amount"], src["activity_unit"] = sum(amounts.values()), next(iter(amounts))
    return co2


# a process's share of the interval rows (pieces the rollups cannot answer): emissions with their energy, the
# production counters' intervals with none
_PROCESS_ROWS = (
    "SELECT COALESCE(d.process, '') AS process, x.activity, x.quantity_unit AS unit, x.quantity::numeric AS quantity,"
    " {energy} AS energy_kwh, {tco2} AS tco2 FROM {source} x JOIN points p ON p.point_key = x.point_key"
    " LEFT JOIN devices d ON d.device_id = p.device_id WHERE x.site_id = ANY(%(sites)s::text[])"
    " AND x.ts >= %({lo})s AND x.ts < %({hi})s AND {activities}")


async def process_figures(conn: psycopg.AsyncConnection, *, sites: Sequence[str], start: datetime,
                          end: datetime) -> dict[str, dict[str, Any]]:
    """Per process of `sites` (summed over the sites; '' for devices without one) in [start, end): energy content
    (kWh) and tCO2 of its emissions, and its production per (product, unit). Read from the process rollups, which
    count a device in the process it was in when the interval was stored; the edges the rollups cannot answer
    from the interval rows."""
    cur = await conn.execute("SELECT DISTINCT site_id || '/' || COALESCE(process, '') FROM devices"
                             " WHERE site_id = ANY(%s::text[])", (list(sites),))
    keys = [r[0] for r in await cur.fetchall()]
    if not keys:
        return {}
    names = {key: next(key[len(site) + 1:] for site in sites if key.startswith(site + "/")) for key in keys}
    params: dict[str, Any] = {"keys": list(names), "names": list(names.values()), "sites": list(sites)}
    parts = []
    for i, (table, lo, hi) in enumerate(cover(start, end, _TIERS)):
        params[f"lo{i}"], params[f"hi{i}"] = lo, hi
        if table is not None:
            parts.append(f"SELECT k.process, activity, unit, quantity, energy_kwh, tco2 FROM {table}"
                         " JOIN unnest(%(keys)s::text[], %(names)s::text[]) AS k(key, process) ON scope_id = k.key"
                         " WHERE level = 'process'"
                         f" AND bucket >= %(lo{i})s AND bucket < %(hi{i})s")
            continue
        for source, (tco2, activities) in _SOURCES.items():
            energy = "COALESCE(x.energy_kwh, 0)::numeric" if source == "emissions" else "0::numeric"
            parts.append(_PROCESS_ROWS.format(energy=energy, tco2=tco2, source=source, lo=f"lo{i}", hi=f"hi{i}",
                                              activities=activities.replace("activity", "x.activity")))
    if not parts:
        return {}
    cur = await conn.execute(
        "SELECT process, activity, unit, sum(quantity)::float8, sum(energy_kwh)::float8, sum(tco2)::float8"
        f" FROM ({' UNION ALL '.join(f'({p})' for p in parts)}) x GROUP BY 1, 2, 3 ORDER BY 1, 2, 3", params)
    out: dict[str, dict[str, Any]] = {}
    for process, activity, unit, quantity, energy, tco2 in await cur.fetchall():
        row = out.setdefault(process, {"process": process, "energy_kwh": 0.0, "tco2": 0.0, "production": []})
        if activity.startswith(_PRODUCTION):
            row["production"].append({"product": activity[len(_PRODUCTION):], "unit": unit, "amount": quantity})
        else:
            row["energy_kwh"] += energy
            row["tco2"] += tco2
    return out
