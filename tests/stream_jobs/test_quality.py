"""Quality carried through: an hour built from partly estimated (uncertain) or bad readings says so, in the
rollups, in the hourly series and in the hourly emissions."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from api.emissions import scope_totals
from api.telemetry import queries
from carbon_domain.factors import FactorLibrary
from carbon_domain.schemas import DeviceBatch, Reading
from stream_jobs.sink import ReadingSink

T0 = datetime(2025, 4, 7, 6, 0, tzinfo=UTC)


def _quality(i: int) -> str:
    # in the first hour: readings 3 and 4 estimated, 5 bad; the second hour is all good
    return {3: "uncertain", 4: "uncertain", 5: "bad"}.get(i, "good")


def _batch(gateway: str, device: str, seqs: range) -> DeviceBatch:
    readings = []
    for i in seqs:
        ts = T0 + timedelta(minutes=10 * i)
        q = _quality(i)
        readings.append(Reading(seq=2 * i, device=device, point="kwh", value=100.0 * i, unit="kWh", kind="counter",
                                quality=q, reason=None if q == "good" else "estimated by the gateway",
                                source_ts=ts, gateway_ts=ts))
        readings.append(Reading(seq=2 * i + 1, device=device, point="kw", value=None if q == "bad" else 50.0 + i,
                                unit="kW", quality=q, reason=None if q == "good" else "estimated by the gateway",
                                source_ts=ts, gateway_ts=ts))
    return DeviceBatch(gateway=gateway, device=device, received_at=T0, readings=readings)


@pytest.fixture
async def written(database_url: str):  # type: ignore[no-untyped-def]
    tag = uuid.uuid4().hex[:6]
    device, site = f"q-{tag}", f"q-site-{tag}"
    conn = await psycopg.AsyncConnection.connect(database_url, autocommit=True)
    await conn.execute("INSERT INTO enterprises VALUES ('q-ent', 'Quality', 'CN', NULL) ON CONFLICT DO NOTHING")
    await conn.execute("INSERT INTO sites VALUES (%s, 'q-ent', 'Quality site', NULL, NULL)", (site,))
    await conn.execute("INSERT INTO devices (device_id, site_id) VALUES (%s, %s)", (device, site))
    await conn.execute("INSERT INTO points (device_id, point, unit, kind, activity) VALUES (%s, 'kwh', 'kWh',"
                       " 'counter', 'electricity')", (device,))
    sink = ReadingSink(conn, FactorLibrary.default())
    batch = _batch(f"gw-{tag}", device, range(12))
    await sink.write([batch])
    await sink.write([batch])  # a replay counts nothing twice
    yield conn, device, site
    await conn.close()


async def test_hourly_rollup_counts_estimated_and_bad_readings(written) -> None:  # type: ignore[no-untyped-def]
    conn, device, _ = written
    cur = await conn.execute(
        "SELECT p.point, r.bucket, r.n, r.n_uncertain, r.n_bad, r.worst_quality FROM rollup_1h r"
        " JOIN points p USING (point_key) WHERE p.device_id = %s ORDER BY 1, 2", (device,))
    hour2 = T0 + timedelta(hours=1)
    assert await cur.fetchall() == [("kw", T0, 6, 2, 1, 2), ("kw", hour2, 6, 0, 0, 0),
                                    ("kwh", T0, 6, 2, 1, 2), ("kwh", hour2, 6, 0, 0, 0)]


async def test_hourly_series_reports_the_share_of_estimated_readings(written) -> None:  # type: ignore[no-untyped-def]
    conn, device, site = written
    answer = await queries.point_series(conn, device=device, point="kw", start=T0, end=T0 + timedelta(hours=2),
                                        interval="1h", sites=[site])
    assert answer is not None
    assert [(p["quality"], p["quality_counts"]) for p in answer["points"]] == [
        ("bad", {"good": 3, "uncertain": 2, "bad": 1}), ("good", {"good": 6, "uncertain": 0, "bad": 0})]


async def test_series_counts_match_across_rollup_and_raw_edges(written) -> None:  # type: ignore[no-untyped-def]
    conn, device, site = written
    # a window with ragged edges is answered partly from raw readings: the counts must agree
    answer = await queries.point_series(conn, device=device, point="kw", start=T0 + timedelta(minutes=25),
                                        end=T0 + timedelta(minutes=95), interval="1h", sites=[site])
    assert answer is not None
    assert [p["quality_counts"] for p in answer["points"]] == [
        {"good": 0, "uncertain": 2, "bad": 1}, {"good": 4, "uncertain": 0, "bad": 0}]


async def test_hourly_emissions_report_intervals_built_from_estimated_readings(written) -> None:  # type: ignore[no-untyped-def]
    conn, _, site = written
    rows = await scope_totals.site_emissions(conn, site=site, start=T0, end=T0 + timedelta(hours=2), interval="1h")
    # intervals end at readings 1..11; the bad reading 5 makes no interval, 3 and 4 make estimated ones
    assert [(r["ts"], r["intervals"], r["quality"], r["quality_counts"]) for r in rows] == [
        (T0, 4, "uncertain", {"good": 2, "uncertain": 2, "bad": 0}),
        (T0 + timedelta(hours=1), 6, "good", {"good": 6, "uncertain": 0, "bad": 0})]
