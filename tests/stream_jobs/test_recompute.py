"""`recompute` gives the live path's results, and picks up a new factor version."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from carbon_domain.schemas import DeviceBatch, Reading
from stream_jobs.recompute import recompute_site
from stream_jobs.sink import ReadingSink, load_factor_library

T0 = datetime(2025, 2, 10, 8, 0, tzinfo=UTC)  # a month no other test writes


def _batch(gateway: str, device: str, readings: list[tuple[int, datetime, float]]) -> DeviceBatch:
    return DeviceBatch(gateway=gateway, device=device, received_at=T0, readings=[
        Reading(seq=s, device=device, point="kwh", value=v, unit="kWh", kind="counter", source_ts=t, gateway_ts=t)
        for s, t, v in readings])


@pytest.fixture
async def site(database_url: str):  # type: ignore[no-untyped-def]
    tag = uuid.uuid4().hex[:6]
    device, site_id = f"rc-{tag}", f"rc-site-{tag}"
    conn = await psycopg.AsyncConnection.connect(database_url, autocommit=True)
    await conn.execute("INSERT INTO enterprises VALUES ('rc-ent', 'Recompute', 'CN', NULL) ON CONFLICT DO NOTHING")
    await conn.execute("INSERT INTO sites VALUES (%s, 'rc-ent', 'Recompute site', NULL, NULL)", (site_id,))
    await conn.execute("INSERT INTO devices (device_id, site_id) VALUES (%s, %s)", (device, site_id))
    await conn.execute("INSERT INTO points (device_id, point, unit, kind, activity) VALUES (%s, 'kwh', 'kWh',"
                       " 'counter', 'electricity')", (device,))
    sink = ReadingSink(conn, await load_factor_library(conn))
    gw = f"gw-{tag}"
    live = [(i, T0 + timedelta(minutes=20 * i), 1000.0 + 37.5 * i) for i in range(0, 12, 2)]
    late = [(i, T0 + timedelta(minutes=20 * i), 1000.0 + 37.5 * i) for i in range(1, 12, 2)]
    await sink.write([_batch(gw, device, live)])
    await sink.write([_batch(gw, device, late)])
    yield conn, site_id
    await conn.execute("DELETE FROM factors WHERE factor_id = 'grid.cn.national_average@test-2025-02'")
    await conn.close()


async def _rows(conn: psycopg.AsyncConnection, site_id: str) -> list[tuple]:
    cur = await conn.execute(
        "SELECT seq, ts, start_ts, quantity, tco2, factor_ids, formula, quality FROM emissions WHERE site_id = %s"
        " ORDER BY ts", (site_id,))
    return list(await cur.fetchall())


async def test_recompute_reproduces_the_live_path_exactly(site) -> None:  # type: ignore[no-untyped-def]
    conn, site_id = site
    live = await _rows(conn, site_id)
    await recompute_site(conn, site=site_id, start=T0 - timedelta(days=1), end=T0 + timedelta(days=1))
    assert (len(live), await _rows(conn, site_id)) == (11, live)


async def test_recompute_applies_a_new_factor_version_and_records_it(site) -> None:  # type: ignore[no-untyped-def]
    conn, site_id = site
    await conn.execute(
        "INSERT INTO factors (factor_id, key, value, unit, scope, scope_id, valid_from, valid_to, series, source)"
        " VALUES ('grid.cn.national_average@test-2025-02', 'grid.cn.national_average', 0.6, 'tCO2/MWh', 'national',"
        " 'cn', '2025-02-01', '2025-02-28', 'mee-national-average', 'test override')")
    result = await recompute_site(conn, site=site_id, start=T0 - timedelta(days=1), end=T0 + timedelta(days=1))
    rows = await _rows(conn, site_id)
    assert (result["tco2_after"], {tuple(r[5]) for r in rows}) == (
        pytest.approx(11 * 0.0375 * 0.6), {("grid.cn.national_average@test-2025-02",)})


async def test_recompute_derives_production_intervals_as_the_live_path_does(database_url: str) -> None:
    tag = uuid.uuid4().hex[:6]
    device, site_id, gw = f"rcp-{tag}", f"rcp-site-{tag}", f"gw-{tag}"
    conn = await psycopg.AsyncConnection.connect(database_url, autocommit=True)
    try:
        await conn.execute("INSERT INTO enterprises VALUES ('rc-ent', 'Recompute', 'CN', NULL) ON CONFLICT DO NOTHING")
        await conn.execute("INSERT INTO sites VALUES (%s, 'rc-ent', 'Recompute site', NULL, NULL)", (site_id,))
        await conn.execute("INSERT INTO devices (device_id, site_id) VALUES (%s, %s)", (device, site_id))
        await conn.execute("INSERT INTO points (device_id, point, unit, kind, activity) VALUES (%s, 'kwh', 't',"
                           " 'counter', 'production:crude_steel')", (device,))
        sink = ReadingSink(conn, await load_factor_library(conn))
        # tonnes tapped, with a reset to near zero in the middle
        values = [500.0, 512.5, 530.0, 3.0, 20.0, 41.0]
        batch = _batch(gw, device, [(i, T0 + timedelta(minutes=20 * i), v) for i, v in enumerate(values)])
        await sink.write([DeviceBatch(gateway=batch.gateway, device=device, received_at=T0, readings=[
            r.model_copy(update={"unit": "t"}) for r in batch.readings])])

        async def intervals() -> list[tuple]:
            cur = await conn.execute("SELECT seq, ts, start_ts, quantity, quality FROM activity_intervals"
                                     " WHERE site_id = %s ORDER BY ts", (site_id,))
            return list(await cur.fetchall())

        live = await intervals()
        await conn.execute("DELETE FROM activity_intervals WHERE site_id = %s", (site_id,))  # as before they were kept
        await recompute_site(conn, site=site_id, start=T0 - timedelta(days=1), end=T0 + timedelta(days=1))
        assert ([round(r[3], 9) for r in live], await intervals()) == ([12.5, 17.5, 3.0, 17.0, 21.0], live)
    finally:
        await conn.close()
