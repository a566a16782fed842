"""Gateway health records -> the latest health per gateway and its overflow events, idempotent under redelivery."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

from carbon_domain.schemas import GatewayHealthRecord
from stream_jobs.gateway_health import store_health_record

T0 = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)


def _status(gateway: str, received: datetime, **status: Any) -> GatewayHealthRecord:
    return GatewayHealthRecord.model_validate({"gateway": gateway, "received_at": received, "status": status})


def _online(gateway: str, received: datetime, depth: int, dropped: int = 0) -> GatewayHealthRecord:
    return _status(gateway, received, state="online", at=received - timedelta(seconds=1), agent_version="0.1.0",
                   interval_s=30, spool={"depth": depth, "bytes": depth * 4, "oldest_unsent_age_s": depth / 100},
                   dropped_total=dropped, dropped_unreported=0)


def _overflow(gateway: str, received: datetime, dropped: int, total: int) -> GatewayHealthRecord:
    return GatewayHealthRecord.model_validate({"gateway": gateway, "received_at": received, "event": {
        "event": "spool_overflow", "gateway": gateway, "dropped": dropped, "dropped_total": total, "at": received}})


async def _health(conn: psycopg.AsyncConnection, gateway: str) -> tuple[Any, ...]:
    cur = await conn.execute(
        "SELECT state, state_since, last_seen, spool_depth, spool_bytes, oldest_unsent_age_s, dropped_total,"
        " agent_version, last_overflow_dropped FROM gateway_health WHERE gateway_id = %s", (gateway,))
    row = await cur.fetchone()
    assert row is not None
    return tuple(row)


async def test_newest_report_wins_and_state_since_marks_the_change(database_url: str) -> None:
    gw = f"gh-{uuid.uuid4().hex[:6]}"
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        await store_health_record(conn, _online(gw, T0, depth=100))
        await store_health_record(conn, _online(gw, T0 + timedelta(seconds=30), depth=40))
        online = await _health(conn, gw)
        await store_health_record(conn, _status(gw, T0 + timedelta(seconds=50), state="offline"))
        await store_health_record(conn, _status(gw, T0 + timedelta(seconds=90), state="offline"))  # retained again
        offline = await _health(conn, gw)
    assert online == ("online", T0, T0 + timedelta(seconds=30), 40, 160, 0.4, 0, "0.1.0", None)
    # offline keeps the last numbers and when the gateway was last seen; the repeat does not move state_since
    assert offline == ("offline", T0 + timedelta(seconds=50), T0 + timedelta(seconds=30), 40, 160, 0.4, 0, "0.1.0",
                       None)


async def test_redelivered_retained_status_changes_nothing(database_url: str) -> None:
    gw = f"gh-{uuid.uuid4().hex[:6]}"
    report = _online(gw, T0, depth=7)
    again = report.model_copy(update={"received_at": T0 + timedelta(minutes=5)})  # same report, later delivery
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        await store_health_record(conn, report)
        await store_health_record(conn, again)
        health = await _health(conn, gw)
    assert (health[0], health[1], health[2]) == ("online", T0, T0)


async def test_overflow_events_are_stored_once_per_report_and_raise_the_drop_count(database_url: str) -> None:
    gw = f"gh-{uuid.uuid4().hex[:6]}"
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        await store_health_record(conn, _online(gw, T0, depth=10))
        await store_health_record(conn, _overflow(gw, T0 + timedelta(seconds=5), 300, 300))
        await store_health_record(conn, _overflow(gw, T0 + timedelta(seconds=6), 300, 300))  # re-sent after reconnect
        await store_health_record(conn, _overflow(gw, T0 + timedelta(seconds=9), 200, 500))
        cur = await conn.execute("SELECT dropped, dropped_total FROM gateway_events WHERE gateway_id = %s"
                                 " ORDER BY id", (gw,))
        events = await cur.fetchall()
        health = await _health(conn, gw)
    assert events == [(300, 300), (200, 500)]
    assert (health[0], health[6], health[8]) == ("online", 500, 200)


async def test_online_report_sets_the_registered_gateways_last_seen_once_per_report(database_url: str) -> None:
    gw = f"gh-{uuid.uuid4().hex[:6]}"
    report = _online(gw, T0, depth=0)
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        await conn.execute("INSERT INTO gateways (gateway_id, status) VALUES (%s, 'active')", (gw,))
        await store_health_record(conn, report)
        await store_health_record(conn, report.model_copy(update={"received_at": T0 + timedelta(minutes=5)}))
        await store_health_record(conn, _status(gw, T0 + timedelta(minutes=6), state="offline"))
        cur = await conn.execute("SELECT last_seen FROM gateways WHERE gateway_id = %s", (gw,))
        last_seen = (await cur.fetchone())[0]
    assert last_seen == T0  # the retained copy and the offline will are no contact
