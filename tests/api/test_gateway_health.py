"""Gateways in GET /api/v1/devices/health: last report, online state, spool backlog and drops, within the caller's
scope; gateway alarms are seen by the callers of the gateway's site."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from fastapi.testclient import TestClient

from tests.api.conftest import unique


def _gateway(db: psycopg.Connection, site: str, *, state: str | None, seen_ago_s: float = 5.0,
             interval_s: float | None = 30.0, depth: int = 0, dropped: int = 0) -> str:
    gateway = unique("m-gw-h")
    db.execute("INSERT INTO gateways (gateway_id, site_id, status) VALUES (%s, %s, 'active')", (gateway, site))
    if state is not None:
        seen = datetime.now(UTC) - timedelta(seconds=seen_ago_s)
        db.execute(
            "INSERT INTO gateway_health (gateway_id, state, state_since, reported_at, last_seen, interval_s,"
            " agent_version, spool_depth, spool_bytes, oldest_unsent_age_s, dropped_total, last_overflow_at,"
            " last_overflow_dropped) VALUES (%s, %s, %s, %s, %s, %s, '0.1.0', %s, %s, %s, %s, %s, %s)",
            (gateway, state, seen - timedelta(hours=1), seen, seen, interval_s, depth, depth * 4, depth / 1000,
             dropped, seen if dropped else None, dropped or None))
    return gateway


def _gateways(client: TestClient, headers: dict[str, str]) -> dict[str, dict[str, Any]]:
    r = client.get("/api/v1/devices/health", headers=headers)
    assert r.status_code == 200, r.text
    return {g["gateway_id"]: g for g in r.json()["gateways"]}


def test_device_health_lists_each_gateway_with_its_spool_and_state(
    api_app_client: TestClient, role_headers: dict[str, dict[str, str]], db: psycopg.Connection
) -> None:
    busy = _gateway(db, "m-site-a", state="online", depth=12000, dropped=300)
    silent = _gateway(db, "m-site-a", state="online", seen_ago_s=200)  # three 30 s reports missed
    gone = _gateway(db, "m-site-a", state="offline")
    new = _gateway(db, "m-site-a", state=None)
    seen = _gateways(api_app_client, role_headers["technician"])
    b = seen[busy]
    assert (b["status"], b["spool_backlog"], b["spool_bytes"], b["oldest_unsent_age_s"], b["dropped_total"],
            b["last_overflow_dropped"], b["agent_version"], b["report_interval_s"]) == (
        "online", 12000, 48000, 12.0, 300, 300, "0.1.0", 30.0)
    assert 4 <= b["age_s"] < 60 and b["last_seen"] is not None
    assert [seen[g]["status"] for g in (silent, gone, new)] == ["stale", "offline", "never"]
    assert (seen[new]["last_seen"], seen[new]["spool_backlog"], seen[new]["dropped_total"]) == (None, None, 0)


def test_scoped_callers_see_only_the_gateways_of_their_sites(
    api_app_client: TestClient, role_headers: dict[str, dict[str, str]], db: psycopg.Connection
) -> None:
    in_a, in_b = _gateway(db, "m-site-a", state="online"), _gateway(db, "m-site-b", state="online")
    government = _gateways(api_app_client, role_headers["government"])  # CN-ZJ: sites a and c
    enterprise = _gateways(api_app_client, role_headers["enterprise"])  # site b
    assert (in_a in government, in_b in government, in_a in enterprise, in_b in enterprise) == (
        True, False, False, True)


def test_gateway_alarm_belongs_to_the_gateways_site(
    api_app_client: TestClient, role_headers: dict[str, dict[str, str]], db: psycopg.Connection
) -> None:
    gateway = _gateway(db, "m-site-b", state="online", dropped=50)
    db.execute("INSERT INTO alarms (rule, device_id, point, severity, detail, raised_at)"
               " VALUES ('spool_overflow', %s, '', 'critical', '50 readings dropped', now())", (gateway,))

    def mine(role: str) -> list[tuple[str, str | None]]:
        r = api_app_client.get("/api/v1/alarms", headers=role_headers[role], params={"limit": 1000})
        return [(a["rule"], a["site_id"]) for a in r.json()["alarms"] if a["device_id"] == gateway]

    assert (mine("enterprise"), mine("government")) == ([("spool_overflow", "m-site-b")], [])
