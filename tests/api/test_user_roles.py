"""PUT /api/v1/users/{name}/role: an administrator gives a user another role with the scope that role takes; a
user whose privileges drop loses its sessions and machine tokens; the last enabled administrator keeps its role."""

from __future__ import annotations

import asyncio

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.auth import accounts
from api.errors import Conflict
from tests.api.conftest import login, make_user


def _token(client: TestClient, headers: dict[str, str]) -> dict[str, str]:
    r = client.post("/api/v1/auth/tokens", headers=headers, json={"name": "role-change", "scopes": ["devices"]})
    assert r.status_code == 201, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


def test_a_demoted_technician_loses_its_sessions_and_tokens_and_logs_in_with_the_new_role(
        api_app_client: TestClient, admin_headers: dict[str, str], db: psycopg.Connection) -> None:
    name, password, session = make_user(api_app_client, admin_headers, "technician")
    token = _token(api_app_client, session)
    r = api_app_client.put(f"/api/v1/users/{name}/role", headers=admin_headers,
                           json={"role": "enterprise", "enterprise_id": "m-ent-a"})
    assert (r.status_code, r.json()["role"], r.json()["enterprise_id"], r.json()["credentials_revoked"]) == (
        200, "enterprise", "m-ent-a", True), r.text
    assert api_app_client.get("/api/v1/devices", headers=session).status_code == 401
    assert api_app_client.get("/api/v1/devices", headers=token).status_code == 401
    fresh = login(api_app_client, name, password)
    assert api_app_client.get("/api/v1/auth/me", headers=fresh).json()["role"] == "enterprise"
    audit = db.execute("SELECT before->>'role', after->>'role', detail->>'credentials_revoked' FROM audit_log"
                       " WHERE action = 'user.role' AND target = %s", (name,)).fetchall()
    assert audit == [("technician", "enterprise", "true")]


def test_a_promotion_to_administrator_keeps_the_users_sessions(api_app_client: TestClient,
                                                               admin_headers: dict[str, str]) -> None:
    name, _, session = make_user(api_app_client, admin_headers, "technician")
    r = api_app_client.put(f"/api/v1/users/{name}/role", headers=admin_headers, json={"role": "admin"})
    assert (r.status_code, r.json()["credentials_revoked"]) == (200, False), r.text
    me = api_app_client.get("/api/v1/auth/me", headers=session)
    assert (me.status_code, me.json()["role"]) == (200, "admin")
    # and back: from administrator to technician the audit and user permissions drop
    r = api_app_client.put(f"/api/v1/users/{name}/role", headers=admin_headers, json={"role": "technician"})
    assert (r.status_code, r.json()["credentials_revoked"]) == (200, True)


@pytest.mark.parametrize(("body", "status", "words"), [
    ({"role": "government"}, 422, "needs a region"),
    ({"role": "technician", "region": "CN-ZJ"}, 422, "remove region"),
    ({"role": "enterprise", "enterprise_id": "no-such-ent"}, 422, "no enterprise 'no-such-ent'"),
    ({"role": "king"}, 422, "role"),
])
def test_a_role_without_its_scope_is_refused_with_a_message(api_app_client: TestClient, admin_headers: dict[str, str],
                                                             body: dict[str, object], status: int, words: str) -> None:
    name, _, _ = make_user(api_app_client, admin_headers, "technician")
    r = api_app_client.put(f"/api/v1/users/{name}/role", headers=admin_headers, json=body)
    assert (r.status_code, words in r.text) == (status, True)


def test_only_administrators_change_roles_and_unknown_users_answer_404(
        api_app_client: TestClient, admin_headers: dict[str, str], role_headers: dict[str, dict[str, str]]) -> None:
    name, _, _ = make_user(api_app_client, admin_headers, "technician")
    r = api_app_client.put(f"/api/v1/users/{name}/role", headers=role_headers["technician"], json={"role": "admin"})
    assert r.status_code == 403
    missing = api_app_client.put("/api/v1/users/nobody-here/role", headers=admin_headers, json={"role": "admin"})
    assert missing.status_code == 404


def test_the_last_enabled_administrator_cannot_be_demoted(database_url: str, api_app_client: TestClient) -> None:
    async def demote_when_alone() -> str:
        async with await psycopg.AsyncConnection.connect(database_url) as conn:
            try:
                async with conn.transaction():
                    cur = await conn.execute("SELECT user_id FROM users WHERE username = 'root'")
                    root = (await cur.fetchone())[0]  # type: ignore[index]
                    # every other administrator disabled, inside a transaction that is rolled back below
                    await conn.execute("UPDATE users SET disabled = true WHERE role = 'admin' AND user_id <> %s",
                                       (root,))
                    await accounts.set_role(conn, user_id=root, role="technician", region=None, enterprise_id=None,
                                            enterprises=(), revoke=True)
            except Conflict as exc:
                return str(exc)
            finally:
                await conn.rollback()
            return "demoted"

    assert "last enabled administrator" in asyncio.run(demote_when_alone())
