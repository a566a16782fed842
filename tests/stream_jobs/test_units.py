"""Unit normalisation in the sink: new points store their dimension's storage unit, older points keep theirs."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from carbon_domain.factors import FactorLibrary
from carbon_domain.schemas import DeviceBatch, Reading
from carbon_domain.units import storage_unit
from stream_jobs.point_ranges import fill_ranges_from_profiles
from stream_jobs.sink import ReadingSink

T0 = datetime(2025, 9, 1, 4, 0, tzinfo=UTC)
GRID = FactorLibrary.default().resolve("grid.cn.national_average", T0, series="mee-national-average").value


@pytest.mark.parametrize(("unit", "stored"), [("Wh", "kWh"), ("MWh", "kWh"), ("GJ", "kWh"), ("W", "kW"),
                                              ("MW", "kW"), ("kg", "t"), ("kgCO2", "tCO2"), ("1e4Nm3", "Nm3"),
                                              ("m³", "m3"), ("degC", "degC"), ("%", "%"), ("m3/h", "m3/h")])
def test_storage_unit_per_dimension(unit: str, stored: str) -> None:
    assert storage_unit(unit) == stored


def _batch(device: str, point: str, unit: str, rows: list[tuple[int, float]], kind: str = "counter") -> DeviceBatch:
    return DeviceBatch(gateway=f"gw-{device}", device=device, received_at=T0, readings=[
        Reading(seq=seq, device=device, point=point, value=value, unit=unit, kind=kind,
                source_ts=T0 + timedelta(minutes=10 * seq), gateway_ts=T0 + timedelta(minutes=10 * seq))
        for seq, value in rows])


@pytest.fixture
async def env(database_url: str):  # type: ignore[no-untyped-def]
    device = f"u-{uuid.uuid4().hex[:6]}"
    conn = await psycopg.AsyncConnection.connect(database_url, autocommit=True)
    await conn.execute("INSERT INTO enterprises VALUES ('u-ent', 'Units', 'CN', NULL) ON CONFLICT DO NOTHING")
    await conn.execute("INSERT INTO sites VALUES (%s, 'u-ent', 'Units site', NULL, NULL)", (f"s-{device}",))
    await conn.execute("INSERT INTO devices (device_id, site_id) VALUES (%s, %s)", (device, f"s-{device}"))
    yield ReadingSink(conn, FactorLibrary.default()), conn, device
    await conn.close()


async def _stored(conn: psycopg.AsyncConnection, device: str, point: str) -> tuple[str, str, list[float | None]]:
    cur = await conn.execute("SELECT unit, source_unit FROM points WHERE device_id = %s AND point = %s", (device, point))
    unit, source = await cur.fetchone()  # type: ignore[misc]
    cur = await conn.execute("SELECT r.value FROM all_readings r JOIN points p USING (point_key)"
                             " WHERE p.device_id = %s AND p.point = %s ORDER BY r.ts", (device, point))
    return unit, source, [v for (v,) in await cur.fetchall()]


async def test_a_new_point_is_stored_in_its_storage_unit_and_keeps_the_sent_unit(env) -> None:  # type: ignore[no-untyped-def]
    sink, conn, device = env
    await conn.execute("INSERT INTO points (device_id, point, unit, kind, activity) VALUES (%s, 'e_wh', 'Wh',"
                       " 'counter', 'electricity')", (device,))
    await sink.write([_batch(device, "e_wh", "Wh", [(0, 1_000_000.0), (1, 1_250_000.0)])])
    await sink.write([_batch(device, "p_mw", "MW", [(2, 1.5)], kind="gauge")])
    assert await _stored(conn, device, "e_wh") == ("kWh", "Wh", [1000.0, 1250.0])
    assert await _stored(conn, device, "p_mw") == ("kW", "MW", [1500.0])
    cur = await conn.execute("SELECT quantity, quantity_unit, tco2 FROM emissions WHERE site_id = %s", (f"s-{device}",))
    quantity, unit, tco2 = await cur.fetchone()  # type: ignore[misc]
    assert (quantity, unit, tco2) == (pytest.approx(0.25), "MWh", pytest.approx(0.25 * GRID))


async def test_a_point_from_before_normalisation_keeps_storing_values_as_sent(env) -> None:  # type: ignore[no-untyped-def]
    sink, conn, device = env
    await conn.execute("INSERT INTO points (device_id, point, unit, kind, normalised) VALUES (%s, 'old_mwh', 'MWh',"
                       " 'counter', false)", (device,))
    await sink.write([_batch(device, "old_mwh", "MWh", [(0, 3.0), (1, 3.5)])])
    assert await _stored(conn, device, "old_mwh") == ("MWh", "MWh", [3.0, 3.5])


async def test_a_later_unit_of_another_dimension_is_stored_as_bad(env) -> None:  # type: ignore[no-untyped-def]
    sink, conn, device = env
    await sink.write([_batch(device, "flow", "Nm3", [(0, 10.0)])])
    await sink.write([_batch(device, "flow", "kg", [(1, 11.0)])])
    cur = await conn.execute("SELECT r.value, r.quality FROM all_readings r JOIN points p USING (point_key)"
                             " WHERE p.device_id = %s ORDER BY r.ts", (device,))
    assert await cur.fetchall() == [(10.0, 0), (None, 2)]


async def test_profile_ranges_of_a_normalised_point_are_in_its_storage_unit(env) -> None:  # type: ignore[no-untyped-def]
    sink, conn, device = env
    # the steam meter's profile gives heat_total_gj in GJ with valid_range [0, 1e8]
    await conn.execute("UPDATE devices SET profile = 'cf-demo/vx-steam' WHERE device_id = %s", (device,))
    await sink.write([_batch(device, "heat_total_gj", "GJ", [(0, 560_210.0)])])
    await fill_ranges_from_profiles(conn)
    cur = await conn.execute("SELECT unit, range_low, range_high FROM points WHERE device_id = %s", (device,))
    unit, low, high = await cur.fetchone()  # type: ignore[misc]
    assert (unit, low, high) == ("kWh", 0.0, pytest.approx(1e8 / 0.0036))
    assert (await _stored(conn, device, "heat_total_gj"))[2] == [pytest.approx(560_210.0 / 0.0036)]


async def _point_versions(conn: psycopg.AsyncConnection, device: str) -> dict[str, tuple[str, str, str]]:
    """Each point's row version (xmin), unit and unit as sent."""
    cur = await conn.execute("SELECT point, xmin::text, unit, source_unit FROM points WHERE device_id = %s", (device,))
    return {point: (xmin, unit, source) for point, xmin, unit, source in await cur.fetchall()}


async def test_a_reread_of_the_points_rewrites_only_points_whose_unit_changed(env, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    sink, conn, device = env
    await sink.write([_batch(device, "e", "kWh", [(0, 1.0)]), _batch(device, "p", "kW", [(1, 2.0)], kind="gauge")])
    before = await _point_versions(conn, device)
    monkeypatch.setattr("stream_jobs.sink._CACHE_TTL_S", 0.0)  # every write re-reads the points
    await sink.write([_batch(device, "e", "kWh", [(2, 3.0)]), _batch(device, "p", "W", [(3, 4000.0)], kind="gauge")])
    after = await _point_versions(conn, device)
    assert after["e"] == before["e"]  # unchanged: not written again
    assert after["p"][1:] == ("kW", "W") and after["p"][0] != before["p"][0]
    assert (await _stored(conn, device, "p"))[2] == [2.0, 4.0]
