"""Rollups kept by the sink equal aggregates over the raw rows, with late data and replays."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from carbon_domain.factors import FactorLibrary
from carbon_domain.schemas import DeviceBatch, Reading
from stream_jobs.sink import ReadingSink

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


def _batch(gateway: str, device: str, rows: list[tuple[int, datetime, float | None, str]]) -> DeviceBatch:
    return DeviceBatch(gateway=gateway, device=device, received_at=T0, readings=[
        Reading(seq=s, device=device, point="kw", value=v, unit="kW", quality=q, reason=None if q == "good" else "x",
                source_ts=t, gateway_ts=t) for s, t, v, q in rows])


@pytest.mark.parametrize("table,width", [("rollup_1m", "1 minute"), ("rollup_1h", "1 hour")])
async def test_rollup_equals_aggregate_of_raw_after_late_data_and_replay(database_url: str, table: str, width: str) -> None:
    device = f"ru-{uuid.uuid4().hex[:6]}"
    conn = await psycopg.AsyncConnection.connect(database_url, autocommit=True)
    try:
        sink = ReadingSink(conn, FactorLibrary.default())
        rows = [(i, T0 + timedelta(seconds=17 * i), float((i * 7) % 23),
                 "bad" if i % 11 == 0 else "uncertain" if i % 5 == 0 else "good")
                for i in range(400)]
        live, late = rows[::2], rows[1::2]
        await sink.write([_batch(f"gw-{device}", device, live)])
        await sink.write([_batch(f"gw-{device}", device, late)])
        await sink.write([_batch(f"gw-{device}", device, late[:50])])  # replay
        cur = await conn.execute(
            f"SELECT r.bucket, r.n, r.n_valid, r.sum, r.min, r.max, r.first_value, r.last_value, r.worst_quality,"
            f" r.n_uncertain, r.n_bad"
            f" FROM {table} r JOIN points p USING (point_key) WHERE p.device_id = %s ORDER BY 1", (device,))
        rolled = await cur.fetchall()
        cur = await conn.execute(
            "SELECT date_bin(%s::interval, ts, '2000-01-01T00:00:00Z'), count(*), count(*) FILTER (WHERE quality < 2),"
            " sum(value) FILTER (WHERE quality < 2), min(value) FILTER (WHERE quality < 2),"
            " max(value) FILTER (WHERE quality < 2),"
            " (array_agg(value ORDER BY ts) FILTER (WHERE quality < 2))[1],"
            " (array_agg(value ORDER BY ts DESC) FILTER (WHERE quality < 2))[1], max(quality),"
            " count(*) FILTER (WHERE quality = 1), count(*) FILTER (WHERE quality = 2)"
            " FROM all_readings r JOIN points p USING (point_key) WHERE p.device_id = %s GROUP BY 1 ORDER BY 1",
            (width, device))
        direct = await cur.fetchall()
    finally:
        await conn.close()
    assert rolled == direct and len(rolled) > 1
