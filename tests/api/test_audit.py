"""The audit log: who did what, when, from where, with before and after; append-only in the database."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import login, make_user, unique


def _entries(client: TestClient, admin: dict, **params: str) -> list[dict]:
    r = client.get("/api/v1/audit", headers=admin, params=params)
    assert r.status_code == 200, r.text
    return r.json()["entries"]


def test_login_failed_login_and_logout_are_recorded_with_client_address(
    api_app_client: TestClient, admin_headers: dict
) -> None:
    name, password, _ = make_user(api_app_client, admin_headers, "technician")
    api_app_client.post("/api/v1/auth/login", json={"username": name, "password": "Wrong-password-9"})
    headers = login(api_app_client, name, password)
    api_app_client.post("/api/v1/auth/logout", headers=headers)
    seen = [(e["action"], e["outcome"], e["client_ip"], (e["detail"] or {}).get("reason"))
            for e in reversed(_entries(api_app_client, admin_headers, user=name, action="auth.*"))]
    assert seen == [
        ("auth.login", "ok", "testclient", None),               # first login with the generated password
        ("auth.password_change", "ok", "testclient", None),     # forced change
        ("auth.login_failed", "denied", "testclient", "wrong password"),
        ("auth.login", "ok", "testclient", None),
        ("auth.logout", "ok", "testclient", None),
    ]


def test_failed_login_for_an_unknown_user_is_recorded(api_app_client: TestClient, admin_headers: dict) -> None:
    name = unique("ghost")
    api_app_client.post("/api/v1/auth/login", json={"username": name, "password": "whatever"})
    [entry] = _entries(api_app_client, admin_headers, user=name)
    assert (entry["action"], entry["actor_kind"], entry["detail"]) == ("auth.login_failed", "anonymous",
                                                                       {"reason": "unknown user"})


def test_writes_are_recorded_with_before_and_after_and_no_secrets(api_app_client: TestClient,
                                                                   admin_headers: dict) -> None:
    name, _, _ = make_user(api_app_client, admin_headers, "government", region="CN-ZJ")
    api_app_client.put(f"/api/v1/users/{name}/scope", headers=admin_headers, json={"region": "CN-GD"})
    api_app_client.post(f"/api/v1/users/{name}/disable", headers=admin_headers)
    entries = [e for e in _entries(api_app_client, admin_headers, user="root", action="user.*") if e["target"] == name]
    by_action = {e["action"]: e for e in entries}
    text = str(entries)
    assert (sorted(by_action), by_action["user.create"]["after"]["region"],
            (by_action["user.scope"]["before"]["region"], by_action["user.scope"]["after"]["region"]),
            (by_action["user.disable"]["before"]["disabled"], by_action["user.disable"]["after"]["disabled"]),
            "password_hash" in text or "scrypt$" in text) == (
        ["user.create", "user.disable", "user.scope"], "CN-ZJ", ("CN-ZJ", "CN-GD"), (False, True), False)


def test_token_creation_is_recorded_without_the_secret(api_app_client: TestClient, admin_headers: dict) -> None:
    body = api_app_client.post("/api/v1/auth/tokens", headers=admin_headers,
                               json={"name": "audited", "scopes": ["live"]}).json()
    [entry] = [e for e in _entries(api_app_client, admin_headers, action="token.create")
               if e["target"] == f"token:{body['token_id']}"]
    assert (entry["actor"], entry["after"]["name"], body["token"] in str(entry)) == ("root", "audited", False)


def test_audit_filters_by_time_range(api_app_client: TestClient, admin_headers: dict) -> None:
    now = datetime.now(UTC)
    future = _entries(api_app_client, admin_headers, since=(now + timedelta(hours=1)).isoformat())
    recent = _entries(api_app_client, admin_headers, since=(now - timedelta(hours=1)).isoformat(),
                      until=(now + timedelta(minutes=1)).isoformat(), limit="3")
    assert (future, len(recent)) == ([], 3)


def test_audit_exports_csv(api_app_client: TestClient, admin_headers: dict) -> None:
    api_app_client.post("/api/v1/auth/login", json={"username": "=HYPERLINK(\"http://x\")", "password": "x"})
    r = api_app_client.get("/api/v1/audit", headers=admin_headers, params={"format": "csv", "action": "auth.login_failed"})
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert (r.headers["content-type"].startswith("text/csv"), "attachment" in r.headers["content-disposition"],
            rows[0]["actor"], rows[0]["action"]) == (True, True, "'=HYPERLINK(\"http://x\")", "auth.login_failed")


@pytest.mark.parametrize(
    ("params", "message"),
    [({"since": "yesterday"}, "not an ISO-8601"), ({"limit": "0"}, "limit"), ({"format": "xml"}, "format"),
     ({"since": "2026-03-02T00:00:00Z", "until": "2026-03-01T00:00:00Z"}, "until must be after since")],
    ids=["bad-time", "zero-limit", "bad-format", "reversed"],
)
def test_bad_audit_queries_get_422(api_app_client: TestClient, admin_headers: dict, params: dict, message: str) -> None:
    r = api_app_client.get("/api/v1/audit", headers=admin_headers, params=params)
    assert (r.status_code, message in r.text) == (422, True)


@pytest.mark.parametrize(
    "statement",
    ["UPDATE audit_log SET action = 'tampered'", "DELETE FROM audit_log", "DELETE FROM audit_log WHERE false",
     "TRUNCATE audit_log"],
    ids=["update", "delete", "delete-nothing", "truncate"],
)
def test_database_refuses_to_change_the_audit_log(api_app_client: TestClient, db: psycopg.Connection,
                                                  owner_database_url: str, statement: str) -> None:
    # the application role may not even try; the trigger holds against the tables' owner as well
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="permission denied for table audit_log"):
        db.execute(statement)  # type: ignore[arg-type]
    with psycopg.connect(owner_database_url, autocommit=True) as owner, \
            pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
        owner.execute(statement)  # type: ignore[arg-type]


def test_audit_pages_with_offset_and_tells_the_total_of_the_filters(api_app_client: TestClient,
                                                                    admin_headers: dict) -> None:
    name = unique("paged")
    for _ in range(5):  # five failed logins of one made-up user: five entries with that actor
        api_app_client.post("/api/v1/auth/login", json={"username": name, "password": "wrong-password-1"})
    pages = [api_app_client.get("/api/v1/audit", headers=admin_headers,
                                params={"user": name, "limit": "2", "offset": str(offset)}).json()
             for offset in (0, 2, 4)]
    everything = _entries(api_app_client, admin_headers, user=name)
    assert [p["total"] for p in pages] == [5, 5, 5]
    assert [e["audit_id"] for p in pages for e in p["entries"]] == [e["audit_id"] for e in everything]
    assert [p["count"] for p in pages] == [2, 2, 1]
    oldest = _entries(api_app_client, admin_headers, user=name, order="oldest")
    assert [e["audit_id"] for e in oldest] == [e["audit_id"] for e in reversed(everything)]
