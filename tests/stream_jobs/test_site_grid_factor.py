"""The stream job accounts a site's electricity with the grid factor its inventory uses by default: the
enterprise-specific row, else the site's province, regional grid or the national average (carbon_domain/grid.py),
read again when the sites or the factor library change; `recompute` follows."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from carbon_domain.factors import FactorLibrary
from carbon_domain.schemas import DeviceBatch, Reading
from stream_jobs import sink as sink_module
from stream_jobs.recompute import recompute_site
from stream_jobs.sink import ReadingSink

T0 = datetime(2025, 3, 12, 2, 0, tzinfo=UTC)  # 10:00 in China; data year 2023 factors apply
KWH_PER_H = 1_000.0
LIBRARY = FactorLibrary.default()
ZHEJIANG = LIBRARY.resolve("grid.province.zhejiang", T0, scope_chain=[("province", "zhejiang")])
NATIONAL = LIBRARY.resolve("grid.cn.national_average", T0, series="mee-national-average")


def _hours(gateway: str, device: str, first: int, last: int) -> DeviceBatch:
    """Hourly readings of a kWh counter from hour `first` to hour `last` after T0 (one interval an hour)."""
    return DeviceBatch(gateway=gateway, device=device, received_at=T0, readings=[
        Reading(seq=h, device=device, point="kwh", value=KWH_PER_H * h, unit="kWh", kind="counter",
                source_ts=T0 + timedelta(hours=h), gateway_ts=T0 + timedelta(hours=h))
        for h in range(first, last + 1)
    ])


@pytest.fixture
async def env(database_url: str):  # type: ignore[no-untyped-def]
    """A metered electricity counter on a new site of a new enterprise; the site's province is set per test."""
    tag = uuid.uuid4().hex[:6]
    enterprise, site, device = f"sgf-ent-{tag}", f"sgf-site-{tag}", f"sgf-m-{tag}"
    conn = await psycopg.AsyncConnection.connect(database_url, autocommit=True)
    await conn.execute("INSERT INTO enterprises VALUES (%s, 'Site factors', 'CN', NULL)", (enterprise,))
    await conn.execute("INSERT INTO sites VALUES (%s, %s, 'Site factors', NULL, NULL)", (site, enterprise))
    await conn.execute("INSERT INTO devices (device_id, site_id) VALUES (%s, %s)", (device, site))
    await conn.execute("INSERT INTO points (device_id, point, unit, kind, activity) VALUES (%s, 'kwh', 'kWh',"
                       " 'counter', 'electricity')", (device,))
    yield conn, enterprise, site, device
    await conn.execute("DELETE FROM factors WHERE scope_id = %s", (enterprise,))
    await conn.close()


async def _by_hour(conn: psycopg.AsyncConnection, site: str) -> dict[int, tuple[float, float, list[str]]]:
    """Hour after T0 -> (MWh, tCO2, factor ids) of the site's stored intervals."""
    cur = await conn.execute("SELECT ts, quantity, tco2, factor_ids FROM emissions WHERE site_id = %s ORDER BY ts",
                             (site,))
    return {int((ts - T0) / timedelta(hours=1)): (q, t, ids) for ts, q, t, ids in await cur.fetchall()}


async def test_a_zhejiang_sites_hourly_emissions_use_its_provincial_factor_and_name_it(env) -> None:  # type: ignore[no-untyped-def]
    conn, _, site, device = env
    await conn.execute("UPDATE sites SET province = 'zhejiang' WHERE site_id = %s", (site,))
    await ReadingSink(conn, LIBRARY).write([_hours(f"gw-{device}", device, 0, 3)])
    rows = await _by_hour(conn, site)
    assert ZHEJIANG.value == 0.4974 and ZHEJIANG.value != NATIONAL.value
    assert rows == {h: (pytest.approx(1.0), pytest.approx(1.0 * ZHEJIANG.value), [ZHEJIANG.factor_id])
                    for h in (1, 2, 3)}
    cur = await conn.execute("SELECT sum(tco2)::float8 FROM scope_rollup_1h WHERE level = 'site' AND scope_id = %s",
                             (site,))
    assert (await cur.fetchone())[0] == pytest.approx(3 * ZHEJIANG.value)


async def test_a_site_without_a_province_uses_the_national_average(env) -> None:  # type: ignore[no-untyped-def]
    conn, _, site, device = env
    await ReadingSink(conn, LIBRARY).write([_hours(f"gw-{device}", device, 0, 2)])
    assert await _by_hour(conn, site) == {h: (pytest.approx(1.0), pytest.approx(NATIONAL.value),
                                              [NATIONAL.factor_id]) for h in (1, 2)}


async def test_a_sites_regional_grid_is_used_when_its_province_has_no_factor(env) -> None:  # type: ignore[no-untyped-def]
    conn, _, site, device = env
    await conn.execute("UPDATE sites SET grid_region = 'north' WHERE site_id = %s", (site,))
    north = LIBRARY.resolve("grid.region.north", T0, scope_chain=[("region", "north")])
    await ReadingSink(conn, LIBRARY).write([_hours(f"gw-{device}", device, 0, 1)])
    assert await _by_hour(conn, site) == {1: (pytest.approx(1.0), pytest.approx(north.value), [north.factor_id])}


async def test_an_enterprise_specific_factor_row_stored_in_the_database_wins(env) -> None:  # type: ignore[no-untyped-def]
    conn, enterprise, site, device = env
    await conn.execute("UPDATE sites SET province = 'zhejiang' WHERE site_id = %s", (site,))
    # given per kWh, as a green-power contract may state it: 0.3 kgCO2/kWh is 0.3 tCO2/MWh
    await conn.execute(
        "INSERT INTO factors (factor_id, key, value, unit, scope, scope_id, valid_from, valid_to, series, source)"
        " VALUES (%s, 'grid.enterprise', 0.3, 'kgCO2/kWh', 'enterprise', %s, '2025-01-01', NULL, 'enterprise',"
        " 'test contract')", (f"grid.enterprise@{enterprise}-2025", enterprise))
    await ReadingSink(conn).write([_hours(f"gw-{device}", device, 0, 2)])
    assert await _by_hour(conn, site) == {h: (pytest.approx(1.0), pytest.approx(0.3),
                                              [f"grid.enterprise@{enterprise}-2025"]) for h in (1, 2)}


async def test_a_sites_new_province_applies_to_new_hours_and_recompute_rederives_old_ones(
        env, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    conn, _, site, device = env
    gateway = f"gw-{device}"
    sink = ReadingSink(conn, LIBRARY)
    await sink.write([_hours(gateway, device, 0, 2)])
    await conn.execute("UPDATE sites SET province = 'zhejiang' WHERE site_id = %s", (site,))
    monkeypatch.setattr(sink_module, "_CACHE_TTL_S", 0.0)  # as when the sink's next re-read of the sites is due
    await sink.write([_hours(gateway, device, 3, 4)])
    assert {h: ids for h, (_, _, ids) in (await _by_hour(conn, site)).items()} == {
        1: [NATIONAL.factor_id], 2: [NATIONAL.factor_id], 3: [ZHEJIANG.factor_id], 4: [ZHEJIANG.factor_id]}
    result = await recompute_site(conn, site=site, start=T0, end=T0 + timedelta(hours=4))
    assert await _by_hour(conn, site) == {h: (pytest.approx(1.0), pytest.approx(ZHEJIANG.value),
                                              [ZHEJIANG.factor_id]) for h in (1, 2, 3, 4)}
    assert (result["tco2_before"], result["tco2_after"]) == (
        pytest.approx(2 * NATIONAL.value + 2 * ZHEJIANG.value), pytest.approx(4 * ZHEJIANG.value))


async def test_a_factor_row_the_library_cannot_read_keeps_the_library_read_before(
        env, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:  # type: ignore[no-untyped-def]
    conn, enterprise, site, device = env
    gateway = f"gw-{device}"
    sink = ReadingSink(conn)
    await sink.write([_hours(gateway, device, 0, 1)])
    # an id that does not start with its key: FactorRow refuses it, the table does not
    await conn.execute(
        "INSERT INTO factors (factor_id, key, value, unit, scope, scope_id, valid_from, valid_to, series, source)"
        " VALUES (%s, 'grid.enterprise', 0.3, 'tCO2/MWh', 'enterprise', %s, '2025-01-01', NULL, 'enterprise',"
        " 'malformed')", (f"bad-{enterprise}", enterprise))
    monkeypatch.setattr(sink_module, "_CACHE_TTL_S", 0.0)
    await sink.write([_hours(gateway, device, 2, 2)])
    assert {h: ids for h, (_, _, ids) in (await _by_hour(conn, site)).items()} == {
        1: [NATIONAL.factor_id], 2: [NATIONAL.factor_id]}
    assert "the factor library could not be read again" in caplog.text and f"bad-{enterprise}" in caplog.text
