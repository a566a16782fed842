"""Alarms: listed by state, site and time within the caller's scope; acknowledged (idempotent) and cleared by
hand with a comment by technicians, an enterprise on its own sites and administrators; every action audited."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import unique

RAISED = datetime.now(UTC) - timedelta(hours=2)


@pytest.fixture
def alarms(db: psycopg.Connection) -> Iterator[dict[str, int]]:
    """One fresh active alarm on m-dev-a (CN-ZJ, enterprise a) and one on m-dev-b (CN-GD, enterprise b)."""
    rule = unique("rule")
    ids = {}
    for tag in ("a", "b"):
        ids[tag] = db.execute(
            "INSERT INTO alarms (rule, device_id, point, severity, detail, raised_at) VALUES"
            " (%s, %s, 'power_kw', 'critical', 'power above 900 kW', %s) RETURNING alarm_id",
            (rule, f"m-dev-{tag}", RAISED),
        ).fetchone()[0]  # type: ignore[index]
    yield ids
    db.execute("UPDATE alarms SET state = 'cleared', cleared_at = now() WHERE rule = %s AND state = 'active'", (rule,))


def _listed(client: TestClient, headers: dict, **params: str) -> dict[int, dict]:
    r = client.get("/api/v1/alarms", headers=headers, params={"state": "all", **params})
    assert r.status_code == 200, r.text
    return {a["alarm_id"]: a for a in r.json()["alarms"]}


def _username(client: TestClient, headers: dict) -> str:
    return client.get("/api/v1/auth/me", headers=headers).json()["username"]


@pytest.mark.parametrize(("role", "sees"), [
    ("admin", {"a", "b"}), ("technician", {"a", "b"}), ("government", {"a"}), ("enterprise", {"b"}),
    ("auditor", {"a", "b"}),
])
def test_alarm_list_is_cut_to_the_callers_sites(api_app_client: TestClient, role_headers: dict, alarms: dict,
                                                role: str, sees: set[str]) -> None:
    listed = _listed(api_app_client, role_headers[role])
    assert {tag for tag, alarm_id in alarms.items() if alarm_id in listed} == sees


def test_alarm_list_filters_by_state_site_and_since(api_app_client: TestClient, admin_headers: dict,
                                                    alarms: dict) -> None:
    active = _listed(api_app_client, admin_headers, state="active", site="m-site-a")
    assert alarms["a"] in active and alarms["b"] not in active
    assert active[alarms["a"]]["site_id"] == "m-site-a"
    assert alarms["a"] not in _listed(api_app_client, admin_headers, state="cleared")
    later = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    assert alarms["a"] not in _listed(api_app_client, admin_headers, since=later)
    earlier = (RAISED - timedelta(minutes=1)).isoformat()
    assert alarms["a"] in _listed(api_app_client, admin_headers, since=earlier)


def test_alarm_list_filters_by_rule(api_app_client: TestClient, admin_headers: dict, alarms: dict,
                                    db: psycopg.Connection) -> None:
    rule = db.execute("SELECT rule FROM alarms WHERE alarm_id = %s", (alarms["a"],)).fetchone()[0]  # type: ignore[index]
    assert set(_listed(api_app_client, admin_headers, rule=rule)) == set(alarms.values())
    assert not set(alarms.values()) & set(_listed(api_app_client, admin_headers, rule="stuck_value"))


@pytest.mark.parametrize("params", [{"state": "open"}, {"since": "yesterday"}, {"since": "2026-01-01T00:00:00"},
                                    {"limit": "0"}, {"rule": "no rule"}])
def test_bad_alarm_filters_are_422_with_a_message(api_app_client: TestClient, admin_headers: dict,
                                                  params: dict) -> None:
    r = api_app_client.get("/api/v1/alarms", headers=admin_headers, params=params)
    assert r.status_code == 422
    assert r.json()["detail"]


def test_acknowledge_records_who_and_when_and_is_idempotent(api_app_client: TestClient, role_headers: dict,
                                                            admin_headers: dict, alarms: dict) -> None:
    headers = role_headers["enterprise"]
    first = api_app_client.post(f"/api/v1/alarms/{alarms['b']}/acknowledge", headers=headers)
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["acknowledged_by"] == _username(api_app_client, headers)
    assert body["acknowledged_at"] is not None and body["state"] == "active"
    again = api_app_client.post(f"/api/v1/alarms/{alarms['b']}/acknowledge", headers=role_headers["technician"])
    assert again.status_code == 200
    assert again.json()["acknowledged_at"] == body["acknowledged_at"]
    assert again.json()["acknowledged_by"] == body["acknowledged_by"]
    listed = _listed(api_app_client, headers)[alarms["b"]]
    assert listed["acknowledged_at"] == body["acknowledged_at"]
    entries = api_app_client.get("/api/v1/audit", headers=admin_headers,
                                 params={"action": "alarm.acknowledge"}).json()["entries"]
    mine = [e for e in entries if e["target"] == f"alarm:{alarms['b']}"]
    assert [e["detail"]["already_acknowledged"] for e in reversed(mine)] == [False, True]
    assert mine[-1]["before"]["acknowledged_at"] is None and mine[-1]["after"]["acknowledged_by"]


def test_clear_by_hand_keeps_the_comment_and_the_history(api_app_client: TestClient, role_headers: dict,
                                                         admin_headers: dict, alarms: dict) -> None:
    headers = role_headers["technician"]
    api_app_client.post(f"/api/v1/alarms/{alarms['a']}/acknowledge", headers=headers)
    r = api_app_client.post(f"/api/v1/alarms/{alarms['a']}/clear", headers=headers,
                            json={"comment": "sensor replaced"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["state"] == "cleared" and body["clear_comment"] == "sensor replaced"
    assert body["cleared_by"] == _username(api_app_client, headers)
    assert body["raised_at"] <= body["acknowledged_at"] <= body["cleared_at"]
    assert alarms["a"] in _listed(api_app_client, headers, state="cleared")
    again = api_app_client.post(f"/api/v1/alarms/{alarms['a']}/clear", headers=headers, json={"comment": "twice"})
    assert again.status_code == 409
    assert "already cleared" in again.json()["detail"]
    entries = api_app_client.get("/api/v1/audit", headers=admin_headers, params={"action": "alarm.clear"}).json()
    entry = next(e for e in entries["entries"] if e["target"] == f"alarm:{alarms['a']}")
    assert entry["before"]["state"] == "active" and entry["after"]["state"] == "cleared"
    assert entry["detail"] == {"comment": "sensor replaced"}


@pytest.mark.parametrize("body", [{}, {"comment": ""}, {"comment": "ok", "extra": 1}])
def test_clear_needs_a_comment(api_app_client: TestClient, admin_headers: dict, alarms: dict, body: dict) -> None:
    r = api_app_client.post(f"/api/v1/alarms/{alarms['a']}/clear", headers=admin_headers, json=body)
    assert r.status_code == 422


@pytest.mark.parametrize(("role", "tag", "status"), [
    ("enterprise", "a", 404),   # not its site: hidden
    ("government", "a", 403),   # watches only
    ("auditor", "b", 403),
    ("anonymous", "a", 401),
])
def test_who_may_act_on_an_alarm(api_app_client: TestClient, role_headers: dict, alarms: dict, role: str, tag: str,
                                 status: int) -> None:
    for action, body in (("acknowledge", None), ("clear", {"comment": "not mine"})):
        r = api_app_client.post(f"/api/v1/alarms/{alarms[tag]}/{action}", headers=role_headers[role], json=body)
        assert r.status_code == status, (action, r.text)
        assert r.json()["detail"]


@pytest.mark.parametrize("alarm_id", ["0", "99999999999", "9223372036854775808", "x"])
def test_unknown_or_invalid_alarm_ids_are_4xx(api_app_client: TestClient, admin_headers: dict, alarm_id: str) -> None:
    r = api_app_client.post(f"/api/v1/alarms/{alarm_id}/acknowledge", headers=admin_headers)
    assert r.status_code in (404, 422)


def test_a_value_postgresql_cannot_store_is_422_not_500(api_app_client: TestClient, admin_headers: dict) -> None:
    r = api_app_client.get("/api/v1/alarms", headers=admin_headers, params={"site": "a\x00b"})
    assert r.status_code == 422
    assert "NUL" in r.json()["detail"]
