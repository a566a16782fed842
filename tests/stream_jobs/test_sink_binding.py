"""The sink records a device's last contact but never changes the gateway it is bound to."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import psycopg

from carbon_domain.factors import FactorLibrary
from carbon_domain.schemas import DeviceBatch, Reading
from stream_jobs.sink import ReadingSink


async def test_a_record_from_another_gateway_leaves_the_devices_gateway_as_bound(database_url: str) -> None:
    device = f"bound-{uuid.uuid4().hex[:6]}"
    ts = datetime.now(UTC) - timedelta(minutes=1)
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        await conn.execute("INSERT INTO devices (device_id, gateway_id) VALUES (%s, 'gw-owner')", (device,))
        batch = DeviceBatch(gateway="manual-import", device=device, received_at=ts, readings=[
            Reading(seq=1, device=device, point="kw", value=1.0, unit="kW", source_ts=ts, gateway_ts=ts)])
        await ReadingSink(conn, FactorLibrary.default()).write([batch])
        cur = await conn.execute("SELECT gateway_id, last_seen FROM devices WHERE device_id = %s", (device,))
        assert await cur.fetchone() == ("gw-owner", ts)
