"""Fixtures of the stream job tests."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest

from carbon_domain.factors import FactorLibrary
from stream_jobs.sink import ReadingSink
from tests.conftest import migrated_database


@pytest.fixture
def scratch_url(postgres_server: str) -> Iterator[str]:
    """A migrated database of the test's own, for work that reaches every point (compaction, retention)."""
    with migrated_database(postgres_server, "cf_scratch") as url:
        yield url


@pytest.fixture
async def kwh_meter(database_url: str):  # type: ignore[no-untyped-def]
    """A kWh counter bound to electricity on a site of its own, and the sink: (sink, connection, device, site)."""
    device = f"m-{uuid.uuid4().hex[:6]}"
    site = f"s-{device}"
    conn = await psycopg.AsyncConnection.connect(database_url, autocommit=True)
    await conn.execute("INSERT INTO enterprises VALUES ('meter-ent', 'Meters', 'CN', NULL) ON CONFLICT DO NOTHING")
    await conn.execute("INSERT INTO sites VALUES (%s, 'meter-ent', 'Meter site', NULL, NULL)", (site,))
    await conn.execute("INSERT INTO devices (device_id, site_id) VALUES (%s, %s)", (device, site))
    await conn.execute("INSERT INTO points (device_id, point, unit, kind, activity) VALUES (%s, 'kwh', 'kWh',"
                       " 'counter', 'electricity')", (device,))
    yield ReadingSink(conn, FactorLibrary.default()), conn, device, site
    await conn.close()
