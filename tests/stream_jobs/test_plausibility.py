"""Implausible readings through the real sink: a counter jumping by 1e15 or going negative is stored as bad,
adds no energy or emissions and raises an alarm; a plausible rise still counts; a gauge outside its range is
stored as bad; a counter's limit comes from a hand-set value, from its profile, or from the default."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from carbon_domain.factors import FactorLibrary
from carbon_domain.plausibility import DEFAULT_MAX_RISE_PER_H
from carbon_domain.schemas import DeviceBatch, Reading
from device_profiles import loader
from stream_jobs.alarms import evaluate_alarms
from stream_jobs.sink import ReadingSink

T0 = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)
H = timedelta(hours=1)


def _batch(device: str, readings: list[tuple[int, datetime, float]], point: str = "kwh", unit: str = "kWh",
           kind: str = "counter") -> DeviceBatch:
    return DeviceBatch(gateway=f"gw-{device}", device=device, received_at=T0, readings=[
        Reading(seq=seq, device=device, point=point, value=value, unit=unit, kind=kind, source_ts=ts, gateway_ts=ts)
        for seq, ts, value in readings])


async def _energy_kwh(conn: psycopg.AsyncConnection, site: str) -> float:
    cur = await conn.execute("SELECT COALESCE(sum(energy_kwh), 0) FROM emissions WHERE site_id = %s", (site,))
    return (await cur.fetchone())[0]


async def _tco2(conn: psycopg.AsyncConnection, site: str) -> float:
    cur = await conn.execute("SELECT COALESCE(sum(tco2), 0) FROM emissions WHERE site_id = %s", (site,))
    return (await cur.fetchone())[0]


async def _stored(conn: psycopg.AsyncConnection, device: str, point: str = "kwh") -> list[tuple[float, int]]:
    cur = await conn.execute("SELECT r.value, r.quality FROM all_readings r JOIN points p USING (point_key)"
                             " WHERE p.device_id = %s AND p.point = %s ORDER BY r.ts", (device, point))
    return list(await cur.fetchall())


async def _flags(conn: psycopg.AsyncConnection, device: str) -> list[tuple[float, str, str]]:
    cur = await conn.execute("SELECT f.value, f.reason, f.state FROM implausible_readings f JOIN points p"
                             " USING (point_key) WHERE p.device_id = %s ORDER BY f.ts", (device,))
    return list(await cur.fetchall())


async def test_1e15_jump_is_stored_bad_adds_nothing_and_raises_an_alarm(kwh_meter) -> None:  # type: ignore[no-untyped-def]
    sink, conn, device, site = kwh_meter
    await sink.write([_batch(device, [(0, T0, 1000.0), (1, T0 + H, 1100.0)])])
    energy, tco2 = await _energy_kwh(conn, site), await _tco2(conn, site)
    await sink.write([_batch(device, [(2, T0 + 2 * H, 1e15), (3, T0 + 3 * H, 1250.0)])])
    await evaluate_alarms(conn, T0 + 3 * H + timedelta(minutes=1))
    cur = await conn.execute("SELECT detail FROM alarms WHERE rule = 'implausible_reading' AND device_id = %s"
                             " AND state = 'active'", (device,))
    [(detail,)] = await cur.fetchall()
    assert await _stored(conn, device) == [(1000.0, 0), (1100.0, 0), (1e15, 2), (1250.0, 0)]
    assert (energy, tco2 > 0) == (100.0, True)
    # the reading after the jump counts from the last plausible one (1100 -> 1250), the jump adds nothing
    assert await _energy_kwh(conn, site) == pytest.approx(250.0)
    assert await _tco2(conn, site) == pytest.approx(tco2 * 2.5)
    assert await _flags(conn, device) == [(1e15, "rise", "open")]
    assert "counter rose 1e+15" in detail and "accept rise #" in detail


async def test_negative_counter_readings_never_reach_accounting(kwh_meter) -> None:  # type: ignore[no-untyped-def]
    sink, conn, device, site = kwh_meter
    # two negative readings: the rise between them (-500 -> -100) was once counted as emissions
    await sink.write([_batch(device, [(0, T0, -500.0), (1, T0 + H, -100.0)])])
    await sink.write([_batch(device, [(2, T0 + 2 * H, 20.0), (3, T0 + 3 * H, -7.0), (4, T0 + 4 * H, 50.0)])])
    await evaluate_alarms(conn, T0 + 4 * H + timedelta(minutes=1))
    cur = await conn.execute("SELECT count(*) FROM alarms WHERE rule = 'implausible_reading' AND device_id = %s",
                             (device,))
    assert await _stored(conn, device) == [(-500.0, 2), (-100.0, 2), (20.0, 0), (-7.0, 2), (50.0, 0)]
    assert await _energy_kwh(conn, site) == pytest.approx(30.0)  # 20 -> 50 only
    assert [(v, r) for v, r, _ in await _flags(conn, device)] == [(-500.0, "negative"), (-100.0, "negative"),
                                                                  (-7.0, "negative")]
    assert (await cur.fetchone())[0] == 1


async def test_a_plausible_rise_is_still_counted(kwh_meter) -> None:  # type: ignore[no-untyped-def]
    sink, conn, device, site = kwh_meter
    await conn.execute("UPDATE points SET max_rise_per_h = 500 WHERE device_id = %s", (device,))
    await sink.write([_batch(device, [(0, T0, 1000.0), (1, T0 + H, 1499.0), (2, T0 + 3 * H, 2400.0)])])
    assert await _stored(conn, device) == [(1000.0, 0), (1499.0, 0), (2400.0, 0)]
    assert await _energy_kwh(conn, site) == pytest.approx(1400.0)
    assert await _flags(conn, device) == []


async def test_hand_set_limit_flags_a_rise_the_default_allows(kwh_meter) -> None:  # type: ignore[no-untyped-def]
    sink, conn, device, site = kwh_meter
    await sink.write([_batch(device, [(0, T0, 1000.0), (1, T0 + H, 1000.0 + DEFAULT_MAX_RISE_PER_H / 2)])])
    default_energy = await _energy_kwh(conn, site)
    await conn.execute("UPDATE points SET max_rise_per_h = 100 WHERE device_id = %s", (device,))
    sink = ReadingSink(conn, FactorLibrary.default())  # a new sink reads the points again (as after its TTL)
    await sink.write([_batch(device, [(2, T0 + 2 * H, 1000.0 + DEFAULT_MAX_RISE_PER_H / 2 + 150.0)])])
    assert default_energy == pytest.approx(DEFAULT_MAX_RISE_PER_H / 2)
    assert await _energy_kwh(conn, site) == pytest.approx(default_energy)
    [(_, reason, _)] = await _flags(conn, device)
    assert reason == "rise"


PROFILE = """
name: {name}
version: 1
description: test meter with a rated power
follows: a public map
protocol: modbus
points:
  - {{name: kwh, table: holding_register, address: 0, data_type: uint32, unit: kWh, kind: counter,
      plausibility: {{rated_power_kw: 100}}}}
  - {{name: temp_c, table: input_register, address: 0, data_type: float32, unit: degC, valid_range: [0, 100]}}
"""


@pytest.fixture
def test_library(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A profile library holding one meter of 100 kW rated power (a limit of 120 kWh an hour); its name."""
    name = f"plaus-test/meter-{uuid.uuid4().hex[:8]}"
    (tmp_path / name.split("/")[0]).mkdir()
    (tmp_path / f"{name}.yaml").write_text(PROFILE.format(name=name), encoding="utf-8")
    monkeypatch.setattr(loader, "_library_root", lambda: tmp_path)
    return name


async def test_profile_rated_power_gives_the_counters_limit(kwh_meter, test_library: str) -> None:  # type: ignore[no-untyped-def]
    sink, conn, device, site = kwh_meter
    await conn.execute("UPDATE devices SET profile = %s WHERE device_id = %s", (test_library, device))
    await sink.write([_batch(device, [(0, T0, 1000.0), (1, T0 + H, 1110.0), (2, T0 + 2 * H, 1300.0),
                                      (3, T0 + 3 * H, 1330.0)])])
    assert await _stored(conn, device) == [(1000.0, 0), (1110.0, 0), (1300.0, 2), (1330.0, 0)]
    assert await _energy_kwh(conn, site) == pytest.approx(330.0)  # 1000->1110, then 1110->1330 over 2 h
    [(value, reason, _)] = await _flags(conn, device)
    assert (value, reason) == (1300.0, "rise")


async def test_hand_set_limit_wins_over_the_profile(kwh_meter, test_library: str) -> None:  # type: ignore[no-untyped-def]
    sink, conn, device, site = kwh_meter
    await conn.execute("UPDATE devices SET profile = %s WHERE device_id = %s", (test_library, device))
    await conn.execute("UPDATE points SET max_rise_per_h = 1000 WHERE device_id = %s", (device,))
    await sink.write([_batch(device, [(0, T0, 1000.0), (1, T0 + H, 1300.0)])])  # above the profile's 120
    assert await _stored(conn, device) == [(1000.0, 0), (1300.0, 0)]
    assert await _energy_kwh(conn, site) == pytest.approx(300.0)


async def test_gauge_outside_its_profile_range_is_stored_bad(kwh_meter, test_library: str) -> None:  # type: ignore[no-untyped-def]
    sink, conn, device, _site = kwh_meter
    await conn.execute("UPDATE devices SET profile = %s WHERE device_id = %s", (test_library, device))
    await sink.write([_batch(device, [(0, T0, 20.0), (1, T0 + H, 250.0), (2, T0 + 2 * H, -3.0)], point="temp_c",
                             unit="degC", kind="gauge")])
    assert await _stored(conn, device, "temp_c") == [(20.0, 0), (250.0, 2), (-3.0, 2)]


async def test_gauge_outside_its_hand_set_range_is_stored_bad(kwh_meter) -> None:  # type: ignore[no-untyped-def]
    sink, conn, device, _site = kwh_meter
    await sink.write([_batch(device, [(0, T0, 5.0)], point="o2_pct", unit="%", kind="gauge")])
    await conn.execute("UPDATE points SET range_low = 0, range_high = 21, range_source = 'manual'"
                       " WHERE device_id = %s AND point = 'o2_pct'", (device,))
    sink = ReadingSink(conn, FactorLibrary.default())
    await sink.write([_batch(device, [(1, T0 + H, 30.0), (2, T0 + 2 * H, 9.0)], point="o2_pct", unit="%",
                             kind="gauge")])
    await evaluate_alarms(conn, T0 + H + timedelta(minutes=1))
    cur = await conn.execute("SELECT detail FROM alarms WHERE rule = 'out_of_range' AND device_id = %s", (device,))
    assert await _stored(conn, device, "o2_pct") == [(5.0, 0), (30.0, 2), (9.0, 0)]
    assert [d for (d,) in await cur.fetchall()] == ["value 30 above the high limit 21 at 2026-05-04T11:00:00+00"]


async def test_a_replayed_implausible_reading_is_flagged_once(kwh_meter) -> None:  # type: ignore[no-untyped-def]
    sink, conn, device, site = kwh_meter
    batch = _batch(device, [(0, T0, 1000.0), (1, T0 + H, 1e15)])
    await sink.write([batch])
    await sink.write([batch])
    assert await _stored(conn, device) == [(1000.0, 0), (1e15, 2)]
    assert await _flags(conn, device) == [(1e15, "rise", "open")]
    assert await _energy_kwh(conn, site) == 0.0
