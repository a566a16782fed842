"""API database sessions: a UTC server's zone is named 'UTC', so timestamps take psycopg's fast path."""

from __future__ import annotations

from datetime import UTC, datetime

import psycopg
import pytest

from api.pgsession import configure_session


async def _session(database_url: str, zone: str) -> psycopg.AsyncConnection:
    return await psycopg.AsyncConnection.connect(database_url, autocommit=True, options=f"-c TimeZone={zone}")


@pytest.mark.parametrize("zone", ["Etc/UTC", "GMT", "Etc/Universal"])
async def test_a_utc_session_is_named_utc_and_its_timestamps_use_timezone_utc(database_url: str, zone: str) -> None:
    async with await _session(database_url, zone) as conn:
        await configure_session(conn)
        cur = await conn.execute("SELECT current_setting('TimeZone'), '2026-03-02 16:00:00+00'::timestamptz")
        name, ts = await cur.fetchone()  # type: ignore[misc]
    assert name == "UTC"
    assert ts.tzinfo is UTC
    assert ts == datetime(2026, 3, 2, 16, tzinfo=UTC)


async def test_a_session_in_another_zone_keeps_it(database_url: str) -> None:
    async with await _session(database_url, "Asia/Shanghai") as conn:
        await configure_session(conn)
        cur = await conn.execute("SELECT current_setting('TimeZone'), '2026-03-02 16:00:00+00'::timestamptz")
        name, ts = await cur.fetchone()  # type: ignore[misc]
    assert name == "Asia/Shanghai"
    assert ts.isoformat() == "2026-03-03T00:00:00+08:00"
