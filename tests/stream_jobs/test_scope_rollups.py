"""Rollups per device, process, site and enterprise kept by the sink: equal to the sums of the stored intervals
after late data and replays, and rebuilt by `recompute` exactly as the live path would have written them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import psycopg
import pytest

from carbon_domain.schemas import DeviceBatch, Reading
from stream_jobs.recompute import recompute_site
from stream_jobs.sink import ReadingSink, load_factor_library

T0 = datetime(2025, 8, 11, 22, 0, tzinfo=UTC)  # a month no other test writes; crosses a UTC day
FACTOR_ID = "grid.cn.national_average@test-2025-08"
# (device, process, point, unit, activity, increase per 10-minute reading)
POINTS = [
    ("bof-meter", "bof", "kwh", "kWh", "electricity", 125.0),
    ("bof-meter", "bof", "gas_nm3", "Nm3", "natural_gas", 40.0),
    ("bof-scale", "bof", "steel_t", "t", "production:crude_steel", 1.5),
    ("mill-meter", "rolling", "kwh", "kWh", "electricity", 80.0),
]
READINGS = 24  # every 10 minutes: 4 hours, two UTC days


@dataclass(frozen=True)
class Plant:
    tag: str
    enterprise: str
    sites: tuple[str, str]


async def _plant(conn: psycopg.AsyncConnection) -> Plant:
    """An enterprise with two sites; the first has the devices above, the second one electricity meter."""
    tag = uuid.uuid4().hex[:6]
    plant = Plant(tag, f"sc-ent-{tag}", (f"sc-a-{tag}", f"sc-b-{tag}"))
    await conn.execute("INSERT INTO enterprises VALUES (%s, 'Scopes', 'CN', NULL)", (plant.enterprise,))
    for site in plant.sites:
        await conn.execute("INSERT INTO sites VALUES (%s, %s, 'Scopes site', NULL, NULL)", (site, plant.enterprise))
    for device, process, point, unit, activity, _ in POINTS:
        await conn.execute("INSERT INTO devices (device_id, site_id, process) VALUES (%s, %s, %s)"
                           " ON CONFLICT DO NOTHING", (f"{device}-{tag}", plant.sites[0], process))
        await conn.execute("INSERT INTO points (device_id, point, unit, kind, activity) VALUES (%s, %s, %s,"
                           " 'counter', %s)", (f"{device}-{tag}", point, unit, activity))
    await conn.execute("INSERT INTO devices (device_id, site_id) VALUES (%s, %s)", (f"b-meter-{tag}", plant.sites[1]))
    await conn.execute("INSERT INTO points (device_id, point, unit, kind, activity) VALUES (%s, 'kwh', 'kWh',"
                       " 'counter', 'electricity')", (f"b-meter-{tag}",))
    return plant


def _batches(plant: Plant, seqs: range) -> list[DeviceBatch]:
    by_device: dict[str, list[Reading]] = {}
    points = [*POINTS, ("b-meter", None, "kwh", "kWh", "electricity", 10.0)]
    for i in seqs:
        ts = T0 + timedelta(minutes=10 * i)
        for j, (device, _, point, unit, _, step) in enumerate(points):
            name = f"{device}-{plant.tag}"
            by_device.setdefault(name, []).append(Reading(
                seq=i * len(points) + j, device=name, point=point, value=1000.0 + step * i, unit=unit,
                kind="counter", source_ts=ts, gateway_ts=ts))
    return [DeviceBatch(gateway=f"gw-{plant.tag}", device=d, received_at=T0, readings=r) for d, r in by_device.items()]


async def _write(conn: psycopg.AsyncConnection, plant: Plant) -> None:
    """Live readings with every third ten minutes missing, then those as a backlog, then a replay."""
    sink = ReadingSink(conn, await load_factor_library(conn))
    live = [i for i in range(READINGS) if i % 3]
    for i in live:
        await sink.write(_batches(plant, range(i, i + 1)))
    backlog = [b for i in range(0, READINGS, 3) for b in _batches(plant, range(i, i + 1))]
    await sink.write(backlog)
    await sink.write(backlog[:3] + _batches(plant, range(4, 6)))  # replayed


async def _rollups(conn: psycopg.AsyncConnection, plant: Plant, table: str = "scope_rollup_1h") -> list[tuple]:
    cur = await conn.execute(
        f"SELECT level, replace(scope_id, %(tag)s, 'TAG'), bucket, activity, unit, quantity, energy_kwh, tco2,"
        f" intervals, n_uncertain, n_bad FROM {table} WHERE scope_id LIKE %(like)s ORDER BY 1, 2, 3, 4, 5",
        {"tag": plant.tag, "like": f"%{plant.tag}%"})
    return list(await cur.fetchall())


@pytest.fixture
async def conn(database_url: str):  # type: ignore[no-untyped-def]
    connection = await psycopg.AsyncConnection.connect(database_url, autocommit=True)
    yield connection
    await connection.execute("DELETE FROM factors WHERE factor_id = %s", (FACTOR_ID,))
    await connection.close()


async def test_scope_rollups_equal_the_sums_of_stored_intervals_after_backlog_and_replay(conn) -> None:  # type: ignore[no-untyped-def]
    plant = await _plant(conn)
    await _write(conn, plant)
    cur = await conn.execute(
        "SELECT s.level, replace(s.scope_id, %(tag)s, 'TAG'), date_bin('1 hour', x.ts, '2000-01-01T00:00:00Z'),"
        " x.activity, x.unit, sum(x.quantity::numeric), sum(COALESCE(x.energy_kwh, 0)::numeric),"
        " sum(x.tco2::numeric), count(*)::int, 0, 0"
        " FROM (SELECT ts, point_key, site_id, activity, quantity_unit AS unit, quantity, energy_kwh, tco2"
        "       FROM emissions UNION ALL SELECT ts, point_key, site_id, activity, quantity_unit, quantity, NULL, 0"
        "       FROM activity_intervals) x"
        " JOIN points p USING (point_key) JOIN devices d USING (device_id) JOIN sites st ON st.site_id = x.site_id"
        " CROSS JOIN LATERAL (VALUES ('device', d.device_id), ('process', x.site_id || '/' || COALESCE(d.process, '')),"
        "   ('site', x.site_id), ('enterprise', st.enterprise_id)) s(level, scope_id)"
        " WHERE st.enterprise_id = %(ent)s GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5",
        {"tag": plant.tag, "ent": plant.enterprise})
    expected = await cur.fetchall()
    rolled = await _rollups(conn, plant)
    assert rolled == expected and len(rolled) > 20


async def test_scope_rollups_give_energy_emissions_and_production_per_hour(conn) -> None:  # type: ignore[no-untyped-def]
    plant = await _plant(conn)
    await _write(conn, plant)
    rows = {(r[0], r[1], r[2], r[3]): r for r in await _rollups(conn, plant)}
    hour = T0 + timedelta(hours=1)  # six intervals end in each whole hour
    bof_power = rows[("process", "sc-a-TAG/bof", hour, "electricity")]
    assert (bof_power[4], bof_power[5], bof_power[6], bof_power[8]) == (
        "MWh", Decimal("0.75"), Decimal(750), 6)
    steel = rows[("site", "sc-a-TAG", hour, "production:crude_steel")]
    assert (steel[4], steel[5], steel[7]) == ("t", Decimal(9), Decimal(0))
    grid = rows[("enterprise", "sc-ent-TAG", hour, "electricity")]
    assert grid[5] == Decimal("0.75") + Decimal("0.48") + Decimal("0.06")  # both sites' meters
    gas = rows[("device", "bof-meter-TAG", hour, "natural_gas")]
    assert gas[4:6] == ("1e4Nm3", Decimal("0.024")) and gas[6] > 0 and gas[7] > 0
    days = {(r[0], r[1], r[2], r[3]): r for r in await _rollups(conn, plant, "scope_rollup_1d")}
    day2 = datetime(2025, 8, 12, tzinfo=UTC)
    # 23 intervals in all: 11 end on the first day (22:10 .. 23:50), 12 on the second
    assert (days[("site", "sc-b-TAG", T0.replace(hour=0), "electricity")][8],
            days[("site", "sc-b-TAG", day2, "electricity")][8]) == (11, 12)


async def test_recompute_after_a_factor_change_gives_the_rollups_of_the_live_path(conn) -> None:  # type: ignore[no-untyped-def]
    before = await _plant(conn)
    await _write(conn, before)
    await conn.execute(
        "INSERT INTO factors (factor_id, key, value, unit, scope, scope_id, valid_from, valid_to, series, source)"
        " VALUES (%s, 'grid.cn.national_average', 0.6123, 'tCO2/MWh', 'national', 'cn', '2025-08-01', '2025-08-31',"
        " 'mee-national-average', 'test override')", (FACTOR_ID,))
    after = await _plant(conn)
    await _write(conn, after)  # live, with the new factor from the start
    for site in before.sites:
        await recompute_site(conn, site=site, start=T0 - timedelta(days=1), end=T0 + timedelta(days=1))
    recomputed, live = await _rollups(conn, before), await _rollups(conn, after)
    assert recomputed == live
    assert {r[7] for r in live if r[3] == "electricity"} != {r[7] for r in live if r[3] == "natural_gas"}
