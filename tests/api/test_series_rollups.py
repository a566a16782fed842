"""Bucketed series come from the stream job's rollups and answer exactly as grouping the raw readings would:
date_bin for minutes and hours, the caller's local days (date_trunc in its time zone) for days."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest

from api.telemetry import queries
from carbon_domain import QUALITY_NAMES
from carbon_domain.factors import FactorLibrary
from carbon_domain.schemas import DeviceBatch, PointKind, Quality, Reading
from stream_jobs.sink import ReadingSink

# starts late in a day, so that the readings span three UTC days and many hour and minute edges
T0 = datetime(2026, 3, 1, 22, 17, 5, tzinfo=UTC)
STEP = timedelta(seconds=37)
COUNT = 5000  # about 51 hours

# the answer of point_series before the rollups: date_bin over the raw readings (1m, 1h), or their local day
_PREVIOUS = (
    "SELECT {bucket} AS bucket, avg(value) FILTER (WHERE quality < 2),"
    " min(value) FILTER (WHERE quality < 2), max(value) FILTER (WHERE quality < 2),"
    " (array_agg(value ORDER BY ts DESC) FILTER (WHERE quality < 2))[1], count(*), max(quality),"
    " count(*) FILTER (WHERE quality = 1), count(*) FILTER (WHERE quality = 2)"
    " FROM all_readings WHERE point_key = %(key)s AND ts >= %(start)s AND ts < %(end)s GROUP BY 1 ORDER BY 1"
)
_UTC_BUCKET = "date_bin(%(width)s, ts, '2000-01-01T00:00:00+00:00'::timestamptz)"
_LOCAL_DAY = "date_trunc('day', ts, %(tz)s)"


@dataclass(frozen=True)
class Seeded:
    device: str
    site: str


def _quality(i: int) -> Quality:
    return Quality.BAD if i % 13 == 0 else Quality.UNCERTAIN if i % 7 == 0 else Quality.GOOD


def _reading(i: int, device: str, point: str, kind: PointKind) -> Reading:
    ts = T0 + STEP * i
    quality = _quality(i)
    value = None if quality is Quality.BAD and i % 2 else (i * 0.25 if kind is PointKind.COUNTER
                                                          else 100 + (i * 17) % 41 * 0.37)
    return Reading(seq=i if kind is PointKind.GAUGE else COUNT + i, device=device, point=point, value=value,
                   unit="kWh" if kind is PointKind.COUNTER else "kW", kind=kind, quality=quality,
                   reason=None if quality is Quality.GOOD else "test", source_ts=ts, gateway_ts=ts)


async def _seed(database_url: str, tag: str) -> Seeded:
    device, site = f"sr-dev-{tag}", f"sr-site-{tag}"
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        await conn.execute("INSERT INTO enterprises (enterprise_id, name, region) VALUES (%s, 'Rollups', 'CN')",
                           (f"sr-ent-{tag}",))
        await conn.execute("INSERT INTO sites (site_id, enterprise_id, name) VALUES (%s, %s, 'Rollups')",
                           (site, f"sr-ent-{tag}"))
        await conn.execute("INSERT INTO devices (device_id, site_id) VALUES (%s, %s)", (device, site))
        sink = ReadingSink(conn, FactorLibrary.default())
        batches = [
            DeviceBatch(gateway=f"sr-gw-{tag}", device=device, received_at=T0, readings=[
                _reading(i, device, point, kind)
                for i in range(first, min(first + 250, COUNT))
                for point, kind in (("power_kw", PointKind.GAUGE), ("energy_kwh", PointKind.COUNTER))])
            for first in range(0, COUNT, 250)
        ]
        late = batches[::3]
        for batch in [b for i, b in enumerate(batches) if i % 3] + late:
            await sink.write([batch])
        await sink.write(late[:2])  # a replay adds nothing
    return Seeded(device, site)


@pytest.fixture(scope="module")
def seeded(database_url: str) -> Seeded:
    """A gauge and a counter written through the stream job's sink, which keeps the rollups; every third
    batch arrives late, after the ones that follow it."""
    return asyncio.run(_seed(database_url, uuid.uuid4().hex[:8]))


async def _previous(conn: psycopg.AsyncConnection, *, device: str, point: str, start: datetime, end: datetime,
                    interval: str, tz: str = "Asia/Shanghai") -> list[dict[str, Any]]:
    cur = await conn.execute("SELECT point_key, kind FROM points WHERE device_id = %s AND point = %s", (device, point))
    key, kind = await cur.fetchone()  # type: ignore[misc]
    cur = await conn.execute(_PREVIOUS.format(bucket=_LOCAL_DAY if interval == "1d" else _UTC_BUCKET),
                             {"width": queries.INTERVALS[interval], "tz": tz, "key": key, "start": start, "end": end})
    return [{"ts": b, "value": last if kind == "counter" else avg, "min": lo, "max": hi, "count": n,
             "quality": QUALITY_NAMES[q], "quality_counts": {"good": n - nu - nb, "uncertain": nu, "bad": nb}}
            for b, avg, lo, hi, last, n, q, nu, nb in await cur.fetchall()]


def _approx(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # sums of floats in another order may differ in the last bits
    return [{k: pytest.approx(v, rel=1e-12) if isinstance(v, float) else v for k, v in row.items()} for row in rows]


WINDOWS = {
    "everything": (T0 - timedelta(days=1), T0 + timedelta(days=3)),
    "aligned-hours": (datetime(2026, 3, 2, 1, tzinfo=UTC), datetime(2026, 3, 2, 9, tzinfo=UTC)),
    "ragged-edges": (T0 + timedelta(hours=3, minutes=7, seconds=13), T0 + timedelta(hours=29, seconds=41)),
    "inside-one-hour": (datetime(2026, 3, 2, 5, 3, 30, tzinfo=UTC), datetime(2026, 3, 2, 5, 47, 2, tzinfo=UTC)),
    "inside-one-minute": (datetime(2026, 3, 2, 5, 3, 3, tzinfo=UTC), datetime(2026, 3, 2, 5, 3, 58, tzinfo=UTC)),
    "across-midnight": (datetime(2026, 3, 2, 23, 58, 1, tzinfo=UTC), datetime(2026, 3, 3, 0, 2, 59, tzinfo=UTC)),
    "before-the-data": (T0 - timedelta(days=2), T0 - timedelta(days=1)),
}


@pytest.mark.parametrize("interval", ["1m", "1h", "1d"])
@pytest.mark.parametrize("point", ["power_kw", "energy_kwh"])
@pytest.mark.parametrize("window", list(WINDOWS))
async def test_rollup_series_equals_date_bin_over_raw_readings(
    database_url: str, seeded: Seeded, window: str, point: str, interval: str,
) -> None:
    start, end = WINDOWS[window]
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        answer = await queries.point_series(conn, device=seeded.device, point=point, start=start, end=end,
                                            interval=interval, sites=[seeded.site])
        previous = await _previous(conn, device=seeded.device, point=point, start=start, end=end, interval=interval)
    assert answer is not None
    assert answer["points"] == _approx(previous)


# whole-hour offsets (with and without DST), half-hour and quarter-hour offsets: a local midnight inside a UTC
# hour is read from the minute rollup instead of the hourly one
@pytest.mark.parametrize("tz", ["UTC", "Asia/Shanghai", "America/New_York", "Asia/Kolkata", "Asia/Kathmandu"])
@pytest.mark.parametrize("point", ["power_kw", "energy_kwh"])
@pytest.mark.parametrize("window", ["everything", "ragged-edges", "across-midnight"])
async def test_daily_series_follow_the_local_day_of_the_time_zone(
    database_url: str, seeded: Seeded, window: str, point: str, tz: str,
) -> None:
    start, end = WINDOWS[window]
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        answer = await queries.point_series(conn, device=seeded.device, point=point, start=start, end=end,
                                            interval="1d", sites=[seeded.site], tz=tz)
        previous = await _previous(conn, device=seeded.device, point=point, start=start, end=end, interval="1d",
                                   tz=tz)
    assert answer is not None
    assert answer["points"] == _approx(previous)


async def test_a_shanghai_day_starts_at_local_midnight(database_url: str, seeded: Seeded) -> None:
    # 15:00-17:00 UTC is 23:00-01:00 in Shanghai (UTC+8): two local days, split at 16:00 UTC
    start, end = datetime(2026, 3, 2, 15, tzinfo=UTC), datetime(2026, 3, 2, 17, tzinfo=UTC)
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        answer = await queries.point_series(conn, device=seeded.device, point="power_kw", start=start, end=end,
                                            interval="1d", sites=[seeded.site], tz="Asia/Shanghai")
    assert answer is not None
    midnight = datetime(2026, 3, 2, 16, tzinfo=UTC)
    stored = [T0 + STEP * i for i in range(COUNT)]
    expected = [(midnight - timedelta(days=1), sum(start <= t < midnight for t in stored)),
                (midnight, sum(midnight <= t < end for t in stored))]
    assert [(p["ts"], p["count"]) for p in answer["points"]] == expected


async def test_hourly_series_reads_the_rollup_not_the_raw_readings(database_url: str, seeded: Seeded) -> None:
    hour = datetime(2026, 3, 2, 4, tzinfo=UTC)
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        await conn.execute(
            "UPDATE rollup_1h SET max = 1e9 WHERE bucket = %s AND point_key ="
            " (SELECT point_key FROM points WHERE device_id = %s AND point = 'energy_kwh')", (hour, seeded.device))
        try:
            answer = await queries.point_series(conn, device=seeded.device, point="energy_kwh", start=hour,
                                                end=hour + timedelta(hours=2), interval="1h", sites=None)
        finally:
            await conn.execute(
                "UPDATE rollup_1h r SET max = (SELECT max(value) FILTER (WHERE quality < 2) FROM all_readings"
                "  WHERE point_key = r.point_key AND ts >= r.bucket AND ts < r.bucket + interval '1 hour')"
                " WHERE bucket = %s AND point_key ="
                " (SELECT point_key FROM points WHERE device_id = %s AND point = 'energy_kwh')", (hour, seeded.device))
    assert answer is not None
    assert [p["max"] for p in answer["points"]][:1] == [1e9]


async def test_readings_without_rollup_rows_are_still_bucketed(database_url: str) -> None:
    tag = uuid.uuid4().hex[:8]
    device = f"sr-old-{tag}"
    start = datetime(2025, 1, 5, 10, tzinfo=UTC)
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        await conn.execute("INSERT INTO devices (device_id) VALUES (%s)", (device,))
        cur = await conn.execute("INSERT INTO gateways (gateway_id) VALUES (%s) RETURNING gateway_key", (f"sr-gw-{tag}",))
        gkey = (await cur.fetchone())[0]  # type: ignore[index]
        cur = await conn.execute("INSERT INTO points (device_id, point, unit, kind) VALUES (%s, 'kw', 'kW', 'gauge')"
                                 " RETURNING point_key", (device,))
        pkey = (await cur.fetchone())[0]  # type: ignore[index]
        async with conn.cursor() as c:  # written around the stream job, as before 004_rollups
            await c.executemany("INSERT INTO readings (gateway_key, seq, ts, point_key, value, quality)"
                                " VALUES (%s, %s, %s, %s, %s, 0)",
                                [(gkey, i, start + timedelta(minutes=20 * i), pkey, float(i)) for i in range(9)])
        answer = await queries.point_series(conn, device=device, point="kw", start=start,
                                            end=start + timedelta(hours=3), interval="1h", sites=None)
    assert answer is not None
    assert [(p["value"], p["count"]) for p in answer["points"]] == [(1.0, 3), (4.0, 3), (7.0, 3)]
