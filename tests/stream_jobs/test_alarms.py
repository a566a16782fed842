"""Alarm rules: raised once while the condition holds, cleared when it stops."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import psycopg

from carbon_domain.factors import FactorLibrary
from carbon_domain.schemas import DeviceBatch, Reading
from stream_jobs.alarms import evaluate_alarms
from stream_jobs.sink import ReadingSink

T0 = datetime(2025, 4, 7, 6, 0, tzinfo=UTC)


async def _setup(database_url: str) -> tuple[psycopg.AsyncConnection, ReadingSink, str]:
    device = f"al-{uuid.uuid4().hex[:6]}"
    conn = await psycopg.AsyncConnection.connect(database_url, autocommit=True)
    await conn.execute("INSERT INTO devices (device_id) VALUES (%s)", (device,))
    await conn.execute("INSERT INTO points (device_id, point, unit, kind, activity) VALUES (%s, 'kwh', 'kWh', 'counter',"
                       " 'electricity')", (device,))
    return conn, ReadingSink(conn, FactorLibrary.default()), device


def _batch(device: str, rows: list[tuple[int, datetime, float | None, str, str]]) -> DeviceBatch:
    return DeviceBatch(gateway=f"gw-{device}", device=device, received_at=T0, readings=[
        Reading(seq=s, device=device, point=p, value=v, unit="kW" if p == "kw" else "kWh",
                kind="counter" if p == "kwh" else "gauge", quality=q, reason=None if q == "good" else "timeout",
                source_ts=t, gateway_ts=t) for s, t, v, q, p in rows])


async def _active(conn: psycopg.AsyncConnection, device: str) -> set[tuple[str, str]]:
    cur = await conn.execute("SELECT rule, point FROM alarms WHERE device_id = %s AND state = 'active'", (device,))
    return set(await cur.fetchall())


async def _count(conn: psycopg.AsyncConnection, device: str) -> int:
    cur = await conn.execute("SELECT count(*) FROM alarms WHERE device_id = %s", (device,))
    return (await cur.fetchone())[0]


async def test_offline_device_raises_once_and_clears_when_data_returns(database_url: str) -> None:
    conn, sink, device = await _setup(database_url)
    await sink.write([_batch(device, [(0, T0, 1.0, "good", "kw")])])
    now = T0 + timedelta(minutes=5)
    await evaluate_alarms(conn, now)
    await evaluate_alarms(conn, now)
    raised = (await _active(conn, device), await _count(conn, device))
    await sink.write([_batch(device, [(1, now, 2.0, "good", "kw")])])
    await evaluate_alarms(conn, now + timedelta(seconds=10))
    cleared = await _active(conn, device)
    await conn.close()
    assert (raised, cleared) == (({("device_offline", "")}, 1), set())


async def test_bad_readings_in_the_newest_minute_raise_bad_data(database_url: str) -> None:
    conn, sink, device = await _setup(database_url)
    await sink.write([_batch(device, [(0, T0, 1.0, "good", "kw"), (1, T0 + timedelta(seconds=61), None, "bad", "kw")])])
    await evaluate_alarms(conn, T0 + timedelta(seconds=70))
    active = await _active(conn, device)
    await conn.close()
    assert ("bad_data", "kw") in active


async def test_gauge_without_change_for_ten_minutes_is_stuck_until_it_moves(database_url: str) -> None:
    conn, sink, device = await _setup(database_url)
    await sink.write([_batch(device, [(i, T0 + timedelta(seconds=30 * i), 42.0, "good", "kw") for i in range(24)])])
    now = T0 + timedelta(minutes=12)
    await evaluate_alarms(conn, now)
    stuck = ("stuck_value", "kw") in await _active(conn, device)
    await sink.write([_batch(device, [(24, now, 43.0, "good", "kw")])])
    await evaluate_alarms(conn, now + timedelta(seconds=5))
    moved = ("stuck_value", "kw") in await _active(conn, device)
    await conn.close()
    assert (stuck, moved) == (True, False)


async def test_counter_going_backwards_raises_counter_reset(database_url: str) -> None:
    conn, sink, device = await _setup(database_url)
    await sink.write([_batch(device, [(0, T0, 5000.0, "good", "kwh"), (1, T0 + timedelta(minutes=1), 3.0, "good", "kwh")])])
    await evaluate_alarms(conn, T0 + timedelta(minutes=2))
    active = await _active(conn, device)
    await conn.close()
    assert ("counter_reset", "kwh") in active
