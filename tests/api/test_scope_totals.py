"""The API's production and emission totals come from what the stream job stored: a production counter that
rolls over near its register maximum, is replaced and is reset gives the same tonnes through the API as in
`activity_intervals`, and totals read from the scope rollups equal sums over the interval rows for ranges on
and off the hour, after late data and after a recompute."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.emissions import scope_totals
from api.telemetry import queries
from carbon_domain.schemas import DeviceBatch, Reading
from stream_jobs.recompute import recompute_site
from stream_jobs.sink import ReadingSink, load_factor_library

T0 = datetime(2025, 4, 14, 1, 0, tzinfo=UTC)  # 09:00 in Asia/Shanghai; a month no other test writes
# hot_metal_t of cf-demo/plc-works wraps at 429496729.6 t: near the top, wrapped, counting on, a replaced meter
# (back to an unrelated value), counting on, a reset to near zero, counting on
STEEL = [429_496_000.0, 429_496_700.0, 100.0, 300.0, 200.0, 260.0, 5.0, 45.0]
STEEL_T = 700 + (429_496_729.6 - 429_496_700.0 + 100.0) + 200 + 0 + 60 + 5 + 40
KWH_STEP = 250.0  # per 10 minutes


def _reading(device: str, point: str, unit: str, seq: int, i: int, value: float) -> Reading:
    ts = T0 + timedelta(minutes=10 * i)
    return Reading(seq=seq, device=device, point=point, value=value, unit=unit, kind="counter", source_ts=ts,
                   gateway_ts=ts)


async def _plant(conn: psycopg.AsyncConnection) -> tuple[str, str, str]:
    """(tag, site, gateway) of a new site with a steel counter (cf-demo/plc-works) and two electricity meters."""
    tag = uuid.uuid4().hex[:6]
    site, gateway = f"st-{tag}", f"st-gw-{tag}"
    await conn.execute("INSERT INTO enterprises (enterprise_id, name, region) VALUES (%s, 'Totals', 'CN-SH')",
                       (f"st-ent-{tag}",))
    await conn.execute("INSERT INTO sites (site_id, enterprise_id, name) VALUES (%s, %s, 'Totals works')",
                       (site, f"st-ent-{tag}"))
    await conn.execute("INSERT INTO devices (device_id, site_id, process, profile) VALUES"
                       " (%s, %s, 'ironmaking', 'cf-demo/plc-works'), (%s, %s, 'ironmaking', NULL),"
                       " (%s, %s, 'rolling', NULL)",
                       (f"plc-{tag}", site, f"bf-meter-{tag}", site, f"mill-meter-{tag}", site))
    await conn.execute("INSERT INTO points (device_id, point, unit, kind, activity) VALUES"
                       " (%s, 'hot_metal_t', 't', 'counter', 'production:hot_metal'),"
                       " (%s, 'kwh', 'kWh', 'counter', 'electricity'), (%s, 'kwh', 'kWh', 'counter', 'electricity')",
                       (f"plc-{tag}", f"bf-meter-{tag}", f"mill-meter-{tag}"))
    return tag, site, gateway


def _batches(tag: str, gateway: str, indexes: list[int]) -> list[DeviceBatch]:
    out = []
    for i in indexes:
        readings = {f"bf-meter-{tag}": _reading(f"bf-meter-{tag}", "kwh", "kWh", 3 * i, i, 10_000 + KWH_STEP * i),
                    f"mill-meter-{tag}": _reading(f"mill-meter-{tag}", "kwh", "kWh", 3 * i + 1, i,
                                                  5_000 + 0.5 * KWH_STEP * i)}
        if i < len(STEEL):
            readings[f"plc-{tag}"] = _reading(f"plc-{tag}", "hot_metal_t", "t", 3 * i + 2, i, STEEL[i])
        out += [DeviceBatch(gateway=gateway, device=d, received_at=T0, readings=[r]) for d, r in readings.items()]
    return out


@pytest.fixture
async def conn(database_url: str):  # type: ignore[no-untyped-def]
    connection = await psycopg.AsyncConnection.connect(database_url, autocommit=True)
    yield connection
    await connection.close()


async def _stored_tonnes(conn: psycopg.AsyncConnection, site: str, lo: datetime, hi: datetime) -> float:
    cur = await conn.execute("SELECT COALESCE(sum(quantity), 0) FROM activity_intervals WHERE site_id = %s"
                             " AND ts >= %s AND ts < %s", (site, lo, hi))
    return (await cur.fetchone())[0]  # type: ignore[index]


async def test_a_counter_that_rolls_over_is_replaced_and_reset_gives_the_stream_jobs_tonnes(conn) -> None:  # type: ignore[no-untyped-def]
    tag, site, gateway = await _plant(conn)
    sink = ReadingSink(conn, await load_factor_library(conn))
    for i in range(len(STEEL)):
        await sink.write(_batches(tag, gateway, [i]))
    cur = await conn.execute("SELECT quality FROM activity_intervals WHERE site_id = %s ORDER BY ts", (site,))
    assert [q for (q,) in await cur.fetchall()] == [0, 1, 0, 1, 0, 1, 0]  # rollover, replacement, reset flagged
    for lo, hi in [(T0 - timedelta(days=1), T0 + timedelta(days=1)),  # whole days and hours
                   (T0 + timedelta(minutes=5), T0 + timedelta(minutes=65))]:  # off the hour: interval rows
        made = await scope_totals.site_production(conn, site=site, start=lo, end=hi)
        assert [(m["product"], m["unit"], m["counters"]) for m in made] == [("hot_metal", "t", 1)]
        assert made[0]["amount"] == pytest.approx(await _stored_tonnes(conn, site, lo, hi), rel=1e-12)
    whole = await scope_totals.site_production(conn, site=site, start=T0 - timedelta(days=1), end=T0 + timedelta(days=1))
    assert whole[0]["amount"] == pytest.approx(STEEL_T, rel=1e-12)
    # the export builds the increase from raw readings, by the same rules and the profile's rollover
    found = await queries.export_point(conn, device=f"plc-{tag}", point="hot_metal_t", start=T0,
                                       end=T0 + timedelta(hours=2), sites=[site])
    assert found is not None and found["rollover"] == pytest.approx(429_496_729.6)
    rows = [r async for batch in queries.export_rows(
        conn, point_key=found["point_key"], kind="counter", start=T0 + timedelta(minutes=1),
        end=T0 + timedelta(hours=2), interval="1m", tz="UTC", rollover=found["rollover"]) for r in batch]
    cur = await conn.execute("SELECT ts, quantity FROM activity_intervals WHERE site_id = %s ORDER BY ts", (site,))
    assert [(r[0], pytest.approx(r[7], rel=1e-12)) for r in rows if r[7] is not None] == list(await cur.fetchall())


def test_overview_intensity_is_tco2_over_the_tonnes_of_the_stored_intervals(
    api_app_client: TestClient, admin_headers: dict[str, str], database_url: str
) -> None:
    async def write() -> tuple[str, float, float]:
        async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as c:
            tag, site, gateway = await _plant(c)
            sink = ReadingSink(c, await load_factor_library(c))
            for i in range(len(STEEL)):
                await sink.write(_batches(tag, gateway, [i]))
            cur = await c.execute("SELECT sum(tco2) FROM emissions WHERE site_id = %s", (site,))
            tco2 = (await cur.fetchone())[0]  # type: ignore[index]
            return site, tco2, await _stored_tonnes(c, site, T0 - timedelta(days=1), T0 + timedelta(days=1))

    site, tco2, tonnes = asyncio.run(write())
    r = api_app_client.get("/api/v1/overview", headers=admin_headers,
                           params={"site": site, "day": "2025-04-14", "tz": "Asia/Shanghai", "product": "hot_metal"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["co2"]["total_tco2"], body["intensity"]["production_t"], body["intensity"]["value"]) == (
        pytest.approx(tco2, rel=1e-9), pytest.approx(STEEL_T, rel=1e-12), pytest.approx(tco2 / tonnes, rel=1e-9))
    assert tco2 > 0


async def _from_rows(conn: psycopg.AsyncConnection, site: str, lo: datetime, hi: datetime,
                     interval: str, tz: str) -> list[tuple]:
    """Buckets summed from the emission rows: UTC hours, or local days of `tz`."""
    bucket = "date_trunc('day', ts, %(tz)s)" if interval == "1d" else "date_bin(interval '1 hour', ts, %(origin)s)"
    cur = await conn.execute(
        f"SELECT {bucket}, activity, sum(tco2), sum(quantity), count(*) FROM emissions"
        " WHERE site_id = %(site)s AND ts >= %(lo)s AND ts < %(hi)s GROUP BY 1, 2 ORDER BY 1, 2",
        {"tz": tz, "origin": "2000-01-01T00:00:00Z", "site": site, "lo": lo, "hi": hi})
    return list(await cur.fetchall())


async def _by_process(conn: psycopg.AsyncConnection, site: str, lo: datetime, hi: datetime) -> list[tuple]:
    cur = await conn.execute(
        "SELECT e.activity, d.process, sum(e.tco2), sum(e.quantity), count(*) FROM emissions e"
        " JOIN points p USING (point_key) JOIN devices d USING (device_id)"
        " WHERE e.site_id = %s AND e.ts >= %s AND e.ts < %s GROUP BY 1, 2 ORDER BY 1, 2", (site, lo, hi))
    return list(await cur.fetchall())


async def _assert_paths_agree(conn: psycopg.AsyncConnection, site: str) -> None:
    ranges = [(T0 - timedelta(days=1), T0 + timedelta(days=2)),  # days, hours
              (T0, T0 + timedelta(hours=3)),  # whole hours
              (T0 + timedelta(minutes=25), T0 + timedelta(hours=2, minutes=5))]  # hours and interval rows
    for lo, hi in ranges:
        # UTC days read the day rollup, Shanghai days the hour rollup, Kolkata days (18:30 UTC) the rows
        for interval, tz in [("1h", "UTC"), ("1d", "UTC"), ("1d", "Asia/Shanghai"), ("1d", "Asia/Kolkata")]:
            rows = await scope_totals.site_emissions(conn, site=site, start=lo, end=hi, interval=interval, tz=tz)
            got = [(r["ts"], r["source"], r["tco2"], r["activity_amount"], r["intervals"]) for r in rows]
            want = await _from_rows(conn, site, lo, hi, interval, tz)
            assert len(got) == len(want) > 0
            for g, w in zip(got, want, strict=True):
                assert g[:2] + g[4:] == w[:2] + w[4:]
                assert g[2:4] == pytest.approx(w[2:4], rel=1e-9, abs=1e-9)
        got_p = [r[:2] + r[3:5] + r[6:] for r in await scope_totals.scope_co2_rows(conn, sites=[site], start=lo,
                                                                                   end=hi)]
        want_p = await _by_process(conn, site, lo, hi)
        assert [g[:2] + g[4:] for g in got_p] == [w[:2] + w[4:] for w in want_p]
        for g, w in zip(got_p, want_p, strict=True):
            assert g[2:4] == pytest.approx(w[2:4], rel=1e-9, abs=1e-9)


async def test_rollup_totals_equal_sums_of_the_emission_rows_after_late_data_and_a_recompute(conn) -> None:  # type: ignore[no-untyped-def]
    tag, site, gateway = await _plant(conn)
    sink = ReadingSink(conn, await load_factor_library(conn))
    late = [i for i in range(18) if i % 4 == 1]
    for i in range(18):
        if i not in late:
            await sink.write(_batches(tag, gateway, [i]))
    await sink.write(_batches(tag, gateway, late))  # a backlog: those intervals are re-derived
    await _assert_paths_agree(conn, site)
    await recompute_site(conn, site=site, start=T0 - timedelta(hours=1), end=T0 + timedelta(hours=2))
    await _assert_paths_agree(conn, site)
    compared = await scope_totals.scope_co2(conn, sites=[site], start=T0, end=T0 + timedelta(hours=3))
    cur = await conn.execute("SELECT sum(tco2) FROM emissions WHERE site_id = %s AND ts >= %s AND ts < %s",
                             (site, T0, T0 + timedelta(hours=3)))
    assert compared["total_tco2"] == pytest.approx((await cur.fetchone())[0], rel=1e-9)  # type: ignore[index]

