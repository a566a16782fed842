"""Large sink batches: the binary COPY keeps every value exactly, hours combined from minute partials equal the raw."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone

import psycopg

from carbon_domain.factors import FactorLibrary
from carbon_domain.schemas import DeviceBatch, Reading
from stream_jobs.sink import ReadingSink

T0 = datetime(2025, 6, 1, 22, 0, tzinfo=UTC)


def _batch(gateway: str, device: str, rows: list[tuple[int, datetime, float | None, str]]) -> DeviceBatch:
    return DeviceBatch(gateway=gateway, device=device, received_at=T0, readings=[
        Reading(seq=s, device=device, point="kw", value=v, unit="kW", quality=q, reason=None if q == "good" else "x",
                source_ts=t, gateway_ts=t) for s, t, v, q in rows])


async def test_stored_rows_keep_nulls_microseconds_old_dates_and_large_sequence_numbers(database_url: str) -> None:
    device = f"sb-{uuid.uuid4().hex[:6]}"
    rows = [
        (0, datetime(1999, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC), -1.5e300, "good"),  # before PG's epoch
        (1, T0 + timedelta(microseconds=1), None, "bad"),
        (2, T0.astimezone(timezone(timedelta(hours=8))) + timedelta(seconds=2), 0.1, "uncertain"),
        (2**62, T0 + timedelta(seconds=3), 42.0, "good"),
    ]
    conn = await psycopg.AsyncConnection.connect(database_url, autocommit=True)
    try:
        await ReadingSink(conn, FactorLibrary.default()).write([_batch(f"gw-{device}", device, rows)])
        cur = await conn.execute(
            "SELECT r.seq, r.ts, r.value, r.quality FROM all_readings r JOIN points p USING (point_key)"
            " WHERE p.device_id = %s ORDER BY r.seq", (device,))
        stored = await cur.fetchall()
    finally:
        await conn.close()
    assert stored == [(s, t, v, {"good": 0, "uncertain": 1, "bad": 2}[q]) for s, t, v, q in rows]


async def test_hours_from_minute_partials_equal_raw_when_minutes_open_with_bad_or_empty_readings(
        database_url: str) -> None:
    device = f"sb-{uuid.uuid4().hex[:6]}"

    def reading(i: int) -> tuple[int, datetime, float | None, str]:
        quality = "bad" if i % 7 < 2 else "uncertain" if i % 5 == 0 else "good"
        value = None if quality != "good" and i % 3 == 0 else float((i * 13) % 29) - 9.0
        return i, T0 + timedelta(seconds=23 * i), value, quality

    rows = [reading(i) for i in range(600)]  # nearly 4 hours across midnight, 230 minutes
    conn = await psycopg.AsyncConnection.connect(database_url, autocommit=True)
    try:
        sink = ReadingSink(conn, FactorLibrary.default())
        await sink.write([_batch(f"gw-{device}", device, rows[1::2])])
        await sink.write([_batch(f"gw-{device}", device, rows[::2])])  # late half lands in the same buckets
        await sink.write([_batch(f"gw-{device}", device, rows[100:200])])  # replay adds nothing
        cur = await conn.execute(
            "SELECT r.bucket, r.n, r.n_valid, r.sum, r.min, r.max, r.first_ts, r.first_value, r.last_ts,"
            " r.last_value, r.worst_quality, r.n_uncertain, r.n_bad"
            " FROM rollup_1h r JOIN points p USING (point_key) WHERE p.device_id = %s ORDER BY 1", (device,))
        rolled = await cur.fetchall()
        cur = await conn.execute(
            "SELECT date_bin('1 hour', ts, '2000-01-01T00:00:00Z'), count(*),"
            " count(*) FILTER (WHERE quality < 2 AND value IS NOT NULL), sum(value) FILTER (WHERE quality < 2),"
            " min(value) FILTER (WHERE quality < 2), max(value) FILTER (WHERE quality < 2),"
            " min(ts) FILTER (WHERE quality < 2 AND value IS NOT NULL),"
            " (array_agg(value ORDER BY ts) FILTER (WHERE quality < 2 AND value IS NOT NULL))[1],"
            " max(ts) FILTER (WHERE quality < 2 AND value IS NOT NULL),"
            " (array_agg(value ORDER BY ts DESC) FILTER (WHERE quality < 2 AND value IS NOT NULL))[1], max(quality),"
            " count(*) FILTER (WHERE quality = 1), count(*) FILTER (WHERE quality = 2)"
            " FROM all_readings r JOIN points p USING (point_key) WHERE p.device_id = %s GROUP BY 1 ORDER BY 1",
            (device,))
        direct = await cur.fetchall()
    finally:
        await conn.close()
    assert rolled == direct and len(rolled) == 4
