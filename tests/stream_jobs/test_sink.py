"""The PostgreSQL sink against a real server: exactly-once in effect, late data in the right buckets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from carbon_domain.factors import FactorLibrary
from carbon_domain.schemas import DeviceBatch, Reading

T0 = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)
GRID = FactorLibrary.default().resolve("grid.cn.national_average", T0, series="mee-national-average").value


def _batch(gateway: str, device: str, readings: list[tuple[int, datetime, float]]) -> DeviceBatch:
    return DeviceBatch(gateway=gateway, device=device, received_at=T0, readings=[
        Reading(seq=seq, device=device, point="kwh", value=value, unit="kWh", kind="counter", source_ts=ts,
                gateway_ts=ts)
        for seq, ts, value in readings
    ])


async def _hourly_kwh(conn: psycopg.AsyncConnection, site: str) -> dict[int, float]:
    cur = await conn.execute(
        "SELECT extract(hour FROM date_bin('1 hour', ts, %s)), sum(quantity) * 1000, sum(tco2) FROM emissions"
        " WHERE site_id = %s GROUP BY 1 ORDER BY 1", (T0, site))
    rows = await cur.fetchall()
    assert all(t == pytest.approx(q / 1000 * GRID) for _, q, t in rows)
    return {int(h): round(q, 9) for h, q, _ in rows}


async def test_replayed_batch_changes_nothing(kwh_meter) -> None:  # type: ignore[no-untyped-def]
    sink, conn, device, site = kwh_meter
    batch = _batch("gw-sink-1", device, [(i, T0 + timedelta(minutes=10 * i), 100.0 * i) for i in range(4)])
    await sink.write([batch])
    await sink.write([batch])
    cur = await conn.execute("SELECT count(*) FROM all_readings r JOIN points p USING (point_key) WHERE p.device_id = %s",
                             (device,))
    assert ((await cur.fetchone())[0], await _hourly_kwh(conn, site)) == (4, {10: 300.0})


async def test_backlog_arriving_after_live_data_lands_in_its_own_hours(kwh_meter) -> None:  # type: ignore[no-untyped-def]
    sink, conn, device, site = kwh_meter
    gw = f"gw-{device}"
    await sink.write([_batch(gw, device, [(0, T0, 0.0), (3, T0 + timedelta(hours=2, minutes=30), 250.0)])])
    await sink.write([_batch(gw, device, [(1, T0 + timedelta(minutes=30), 50.0),
                                          (2, T0 + timedelta(hours=1, minutes=30), 150.0)])])
    assert await _hourly_kwh(conn, site) == {10: 50.0, 11: 100.0, 12: 100.0}


async def test_counter_reset_counts_from_zero_and_is_flagged(kwh_meter) -> None:  # type: ignore[no-untyped-def]
    sink, conn, device, site = kwh_meter
    await sink.write([_batch(f"gw-{device}", device, [(0, T0, 5000.0), (1, T0 + timedelta(minutes=5), 12.0)])])
    cur = await conn.execute("SELECT quantity * 1000, quality FROM emissions WHERE site_id = %s", (site,))
    assert [(round(q, 9), ql) for q, ql in await cur.fetchall()] == [(12.0, 1)]


async def test_profiled_register_wrapping_near_its_max_is_a_rollover(kwh_meter) -> None:  # type: ignore[no-untyped-def]
    sink, conn, device, site = kwh_meter
    # the library profile says energy_import_kwh wraps at 42,949,672.96 kWh
    await conn.execute("UPDATE devices SET profile = 'cf-demo/pm3-meter' WHERE device_id = %s", (device,))
    await conn.execute("UPDATE points SET point = 'energy_import_kwh' WHERE device_id = %s", (device,))
    readings = [(0, T0, 42_949_600.0), (1, T0 + timedelta(minutes=5), 27.04),
                (2, T0 + timedelta(minutes=10), 1027.04), (3, T0 + timedelta(minutes=15), 600.0)]
    batch = DeviceBatch(gateway=f"gw-{device}", device=device, received_at=T0, readings=[
        Reading(seq=seq, device=device, point="energy_import_kwh", value=value, unit="kWh", kind="counter",
                source_ts=ts, gateway_ts=ts) for seq, ts, value in readings])
    await sink.write([batch])
    cur = await conn.execute("SELECT quantity * 1000, quality FROM emissions WHERE site_id = %s ORDER BY ts", (site,))
    # the wrap counts 100 kWh; the fall to an unrelated value (a replaced meter) counts nothing and is flagged
    assert [(round(q, 6), ql) for q, ql in await cur.fetchall()] == [(100.0, 1), (1000.0, 0), (0.0, 1)]
