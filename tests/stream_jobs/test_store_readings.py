"""The readings agent's batch path: records split by device over lanes (connections), stored in order per
device, bad records dead-lettered, a replayed batch stored once."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from carbon_domain.schemas import DeviceBatch, Reading
from stream_jobs import agents

T0 = datetime(2026, 2, 2, 6, 0, tzinfo=UTC)
DEVICES = 6
RECORDS_PER_DEVICE = 5


def _record(gateway: str, devices: list[str], d: int, index: int) -> bytes:
    """Record `index` of device `d`: 4 counter readings 5 minutes apart, 10 kWh each."""
    device = devices[d]
    readings = [Reading(seq=d * 1000 + index * 4 + i, device=device, point="kwh", value=1000.0 + 10.0 * (index * 4 + i),
                        unit="kWh", kind="counter", source_ts=T0 + timedelta(minutes=5 * (index * 4 + i)),
                        gateway_ts=T0 + timedelta(minutes=5 * (index * 4 + i))) for i in range(4)]
    return DeviceBatch(gateway=gateway, device=device, received_at=T0, readings=readings).model_dump_json().encode()


@pytest.fixture
async def lanes(database_url: str, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Three lanes on the test database, chunks of 4 records, and six metered devices of one site."""
    run = uuid.uuid4().hex[:6]
    site, devices = f"s-{run}", [f"ln-{run}-{d}" for d in range(DEVICES)]
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("INSERT INTO enterprises VALUES ('lane-ent', 'Lanes', 'CN', NULL) ON CONFLICT DO NOTHING")
        conn.execute("INSERT INTO sites VALUES (%s, 'lane-ent', 'Lane site', NULL, NULL)", (site,))
        for device in devices:
            conn.execute("INSERT INTO devices (device_id, site_id) VALUES (%s, %s)", (device, site))
            conn.execute("INSERT INTO points (device_id, point, unit, kind, activity) VALUES (%s, 'kwh', 'kWh',"
                         " 'counter', 'electricity')", (device,))
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setattr(agents, "_CHUNK", 4)
    monkeypatch.setattr(agents, "_lanes", [agents._Database() for _ in range(3)])
    yield site, devices, f"gw-{run}"
    for lane in agents._lanes:
        if lane.conn is not None:
            await lane.conn.close()


async def test_records_spread_over_lanes_give_each_device_its_intervals_once_and_replays_add_nothing(
        lanes, database_url: str) -> None:  # type: ignore[no-untyped-def]
    site, devices, gateway = lanes
    # records interleaved across devices, as they arrive from Kafka partitions; a device's records in order
    values = [_record(gateway, devices, d, i) for i in range(RECORDS_PER_DEVICE) for d in range(DEVICES)]
    values.insert(7, b'{"gateway": "gw", "device": "d", "readings": "not a list"}')
    await agents._store_take(values)
    await agents._store_take(values[10:])  # a replay after a crash: nothing changes
    with psycopg.connect(database_url) as conn:
        used = {lane.conn.info.backend_pid for lane in agents._lanes if lane.conn is not None}
        per_device = conn.execute(
            "SELECT count(*), count(DISTINCT start_ts), min(quantity) * 1000, max(quantity) * 1000, min(quality)"
            " FROM emissions WHERE site_id = %s GROUP BY point_key", (site,)).fetchall()
        letters = conn.execute("SELECT reason FROM dead_letters WHERE stage = 'stream' AND payload = %s",
                               (values[7],)).fetchall()
    intervals = RECORDS_PER_DEVICE * 4 - 1  # every reading after a device's first ends a 10 kWh interval
    assert len(used) > 1
    assert sorted(per_device) == [(intervals, intervals, 10.0, 10.0, 0)] * DEVICES
    assert letters and all(reason.startswith("invalid Kafka record") for (reason,) in letters)
