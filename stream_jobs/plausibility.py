"""The sink's plausibility check: implausible readings are stored as bad and never reach accounting.

- A counter reading that is negative, or that rose faster than its point's limit since the last plausible
  reading (carbon_domain.plausibility), is stored with quality bad, adds nothing to energy or emissions, and
  gets a row in `implausible_readings` (091_plausibility.sql) with the reason, for the `implausible_reading`
  alarm and for a person to accept the rise.
- A gauge reading outside its point's range (the point range of 061, set by hand, or the profile's
  valid_range) is stored with quality bad; the out_of_range alarm reports it.

The limits of a device's points are derived once, when the sink loads the points (`point_limits`), and cached
with them; a batch is checked in one pass over its readings, which costs a dictionary look-up per reading of a
point that has a limit and nothing for a device that has none.

When a person accepts a rise, `recompute_accepted` (the stream worker's alarm timer) recomputes the site's
hours from the accepted reading to the next plausible one, so accounting includes it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import psycopg

from carbon_domain.plausibility import DEFAULT_MAX_RISE_PER_H, Finding, counter_finding, out_of_range
from carbon_domain.schemas import from_epoch_us
from device_profiles.point_rules import point_rise_limit, point_valid_range

__all__ = ["Flag", "Limits", "point_limits", "record_flags", "recompute_accepted", "screen_batch"]

log = logging.getLogger("stream_jobs.plausibility")
_BAD = 2
_HOUR = timedelta(hours=1)


@dataclass(frozen=True)
class Limits:
    """What a point's readings are checked against, in its stored unit."""

    counter: bool
    max_rise_per_h: float = DEFAULT_MAX_RISE_PER_H  # counters
    low: float | None = None  # gauges
    high: float | None = None


def point_limits(*, profile: str | None, point: str, kind: str, unit: str, source_unit: str | None,
                 normalised: bool, range_low: float | None, range_high: float | None, range_source: str | None,
                 max_rise_per_h: float | None) -> Limits | None:
    """A stored point's limits: a counter's rise limit set by hand, else its profile's, else the default; a
    gauge's range set by hand or filled in from the profile (061), else its profile's valid_range when the
    stream worker has not looked yet. None for a gauge without a range."""
    units = {"unit": unit, "source_unit": source_unit, "normalised": normalised}
    if kind == "counter":
        limit = max_rise_per_h or point_rise_limit(profile, point, **units) or DEFAULT_MAX_RISE_PER_H
        return Limits(True, limit)
    if range_source in ("manual", "profile"):
        low, high = range_low, range_high
    elif range_source is None:
        low, high = point_valid_range(profile, point, **units) or (None, None)
    else:  # 'none': the profile gives no range
        return None
    return None if low is None and high is None else Limits(False, low=low, high=high)


@dataclass(frozen=True)
class Flag:
    """A counter reading found implausible, before it is stored."""

    point_key: int
    gateway_key: int
    seq: int
    ts_us: int
    value: float
    finding: Finding
    limit_per_h: float


def screen_batch(gateway_key: int, seqs: Sequence[int], times_us: Sequence[int], point_keys: Sequence[int],
                 values: Sequence[float | None], qualities: Sequence[int], limits: Mapping[int, Limits],
                 bases: dict[int, tuple[int, float]]) -> tuple[list[int] | None, list[Flag]]:
    """Check one device batch: its qualities with the implausible readings made bad (None when none is) and the
    flags of its implausible counter readings. `bases` holds each counter's last plausible reading (time in
    epoch microseconds, value) and is advanced past this batch's plausible ones.

    Readings are judged in the order they came (a gateway sends a point's readings in time order); one older
    than its counter's base is a late one, checked for its sign only, as a backlog batch is."""
    out: list[int] | None = None
    flags: list[Flag] = []
    for i, (key, value, quality) in enumerate(zip(point_keys, values, qualities)):
        limit = limits.get(key)
        if limit is None or quality >= _BAD or value is None:
            continue
        if not limit.counter:
            if out_of_range(value, limit.low, limit.high):
                if out is None:
                    out = list(qualities)
                out[i] = _BAD
            continue
        us, base = times_us[i], bases.get(key)
        finding = counter_finding(base, us, value, limit.max_rise_per_h)
        if finding is None:
            if base is None or us > base[0]:
                bases[key] = (us, value)
            continue
        if out is None:
            out = list(qualities)
        out[i] = _BAD
        flags.append(Flag(key, gateway_key, seqs[i], us, value, finding, limit.max_rise_per_h))
    return out, flags


async def record_flags(conn: psycopg.AsyncConnection, flags: list[Flag]) -> int:
    """Store the flags of readings that were stored (a replayed reading is not stored again and keeps the flag
    it had); returns how many are new."""
    if not flags:
        return 0
    async with conn.cursor() as cur:
        await cur.executemany(
            "INSERT INTO implausible_readings (point_key, gateway_key, seq, ts, value, reason, detail, previous_ts,"
            " previous_value, limit_per_h) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
            " ON CONFLICT (point_key, gateway_key, seq, ts) DO NOTHING",
            [(f.point_key, f.gateway_key, f.seq, from_epoch_us(f.ts_us), f.value, f.finding.reason, f.finding.detail,
              None if f.finding.previous_us is None else from_epoch_us(f.finding.previous_us),
              f.finding.previous_value, f.limit_per_h) for f in flags])
        return cur.rowcount if cur.rowcount >= 0 else len(flags)


async def recompute_accepted(conn: psycopg.AsyncConnection) -> int:
    """Recompute the hours of the rises people accepted since the last run, site by site, and move each
    counter's state past the accepted readings; returns how many acceptances were applied.

    A site's hours run from that of its earliest accepted reading to the end of the hour of the first plausible
    reading after its newest one (whose interval now starts at the accepted reading)."""
    from stream_jobs.recompute import RecomputeRefused, recompute_site  # recompute imports the sink

    applied = 0
    async with conn.transaction():
        cur = await conn.execute(
            "SELECT f.flag_id, f.point_key, f.ts, f.value, d.site_id FROM implausible_readings f"
            " JOIN points p USING (point_key) JOIN devices d USING (device_id)"
            " WHERE f.state = 'accepted' AND f.recomputed_at IS NULL ORDER BY f.accepted_at, f.flag_id"
            " FOR UPDATE OF f SKIP LOCKED")
        rows = await cur.fetchall()
        by_site: dict[str, list[tuple[int, int, datetime, float]]] = {}
        for flag_id, point_key, ts, value, site in rows:
            if site is not None:
                by_site.setdefault(site, []).append((flag_id, point_key, ts, value))
        for site, flags in by_site.items():
            start = min(ts for _, _, ts, _ in flags)
            end = start
            for point_key in {f[1] for f in flags}:
                newest = max((f for f in flags if f[1] == point_key), key=lambda f: f[2])
                end = max(end, await _next_plausible(conn, point_key, newest[2]))
                await conn.execute(
                    "INSERT INTO point_state (point_key, ts, value) VALUES (%s, %s, %s) ON CONFLICT (point_key)"
                    " DO UPDATE SET ts = EXCLUDED.ts, value = EXCLUDED.value WHERE point_state.ts < EXCLUDED.ts",
                    (point_key, newest[2], newest[3]))
            hour = start.replace(minute=0, second=0, microsecond=0)
            last = end.replace(minute=0, second=0, microsecond=0) + _HOUR - timedelta(microseconds=1)
            try:
                result = await recompute_site(conn, site=site, start=hour, end=last)
            except RecomputeRefused as exc:
                log.warning("accepted rises of site %s not recomputed: %s", site, exc)
            else:
                log.info("accepted rises of site %s: hours %s..%s recomputed, tCO2 %.6f -> %.6f", site,
                         hour.isoformat(), last.isoformat(), result["tco2_before"], result["tco2_after"])
        await conn.execute("UPDATE implausible_readings SET recomputed_at = now() WHERE flag_id = ANY(%s)",
                           ([r[0] for r in rows],))
        applied = len(rows)
    return applied


async def _next_plausible(conn: psycopg.AsyncConnection, point_key: int, after: datetime) -> datetime:
    """The time of the first reading accounting counts after `after` (a good or uncertain one), else `after`."""
    cur = await conn.execute(
        "SELECT ts FROM cf_point_first(%s, %s + interval '1 microsecond', 'infinity', 1, true)", (point_key, after))
    row = await cur.fetchone()
    return after if row is None else row[0]
