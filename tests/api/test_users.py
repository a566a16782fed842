"""User management by administrators: create, list, disable, reset password, assign scope; bad input is 4xx."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import login, make_user, new_password, unique


def test_created_user_gets_a_one_time_password_shown_once(api_app_client: TestClient, admin_headers: dict) -> None:
    name = unique("new")
    created = api_app_client.post("/api/v1/users", headers=admin_headers,
                                  json={"username": name, "role": "auditor", "enterprises": ["m-ent-a"]})
    shown = api_app_client.get(f"/api/v1/users/{name}", headers=admin_headers).json()
    listed = [u for u in api_app_client.get("/api/v1/users", headers=admin_headers).json()["users"]
              if u["username"] == name]
    assert (created.status_code, len(created.json()["password"]) >= 12, created.json()["must_change_password"],
            "password" in shown, "password_hash" in listed[0], listed[0]["enterprises"]) == (
        201, True, True, False, False, ["m-ent-a"])


def test_admin_given_password_must_meet_the_policy(api_app_client: TestClient, admin_headers: dict) -> None:
    r = api_app_client.post("/api/v1/users", headers=admin_headers,
                            json={"username": unique("weak"), "role": "technician", "password": "password"})
    assert (r.status_code, "at least 12 characters" in r.json()["detail"]) == (422, True)


@pytest.mark.parametrize(
    ("password", "why"),
    [("Password1234", "similar to a commonly used password"), ("Password123!", "similar to a commonly used password"),
     ("aaaaaaaaaaA1", 'Repeats like "aaa" are easy to guess')],
)
def test_admin_given_password_must_be_hard_to_guess_on_create_and_reset(
    api_app_client: TestClient, admin_headers: dict, password: str, why: str,
) -> None:
    created = api_app_client.post("/api/v1/users", headers=admin_headers,
                                  json={"username": unique("weak"), "role": "technician", "password": password})
    name, _, _ = make_user(api_app_client, admin_headers, "technician")
    reset = api_app_client.post(f"/api/v1/users/{name}/password", headers=admin_headers, json={"password": password})
    assert (created.status_code, why in created.json()["detail"], "too easy to guess" in created.json()["detail"],
            reset.status_code, why in reset.json()["detail"]) == (422, True, True, 422, True)


def test_reset_password_ends_the_users_sessions(api_app_client: TestClient, admin_headers: dict) -> None:
    name, _, headers = make_user(api_app_client, admin_headers, "technician")
    chosen = new_password()
    reset = api_app_client.post(f"/api/v1/users/{name}/password", headers=admin_headers, json={"password": chosen})
    old_session = api_app_client.get("/api/v1/devices", headers=headers)
    fresh = login(api_app_client, name, chosen)
    assert (reset.status_code, "password" in reset.json(), old_session.status_code,
            api_app_client.get("/api/v1/auth/me", headers=fresh).json()["must_change_password"]) == (200, False, 401, True)


def test_admin_cannot_disable_itself(api_app_client: TestClient, admin_headers: dict) -> None:
    r = api_app_client.post("/api/v1/users/root/disable", headers=admin_headers)
    assert (r.status_code, r.json()["detail"]) == (409, "you cannot disable your own account")


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "message"),
    [
        ("POST", "/api/v1/users", {"username": "Bad Name", "role": "technician"}, 422, "username"),
        ("POST", "/api/v1/users", {"username": "gov-x", "role": "government"}, 422, "needs a region"),
        ("POST", "/api/v1/users", {"username": "ent-x", "role": "enterprise", "enterprise_id": "nope"}, 422,
         "no enterprise 'nope'"),
        ("POST", "/api/v1/users", {"username": "tech-x", "role": "technician", "region": "CN-ZJ"}, 422,
         "takes no scope"),
        ("POST", "/api/v1/users", {"username": "root", "role": "technician"}, 409, "already exists"),
        ("POST", "/api/v1/users", {"username": "boss-x", "role": "superuser"}, 422, "role"),
        ("POST", "/api/v1/users", {"username": "aud-x", "role": "auditor", "enterprises": "m-ent-a"}, 422,
         "enterprises"),
        ("POST", "/api/v1/users/nobody-here/password", {}, 404, "no user 'nobody-here'"),
        ("POST", "/api/v1/users/nobody-here/disable", None, 404, "no user"),
        ("PUT", "/api/v1/users/root/scope", {"region": "CN-ZJ"}, 422, "role 'admin' takes no scope"),
        ("PUT", "/api/v1/users/root/scope", {"colour": "red"}, 422, "Extra inputs"),
        ("DELETE", "/api/v1/users/nobody-here/totp", None, 404, "no user"),
        ("DELETE", "/api/v1/auth/tokens/not-a-number", None, 422, "token_id"),
        ("POST", "/api/v1/auth/tokens", {"name": "x", "scopes": ["devices"], "expires_in_days": 0}, 422,
         "expires_in_days"),
        ("POST", "/api/v1/auth/tokens", {"name": "x", "scopes": ["everything"]}, 422, "scopes"),
        ("POST", "/api/v1/auth/tokens", {"name": "x", "scopes": []}, 422, "scopes"),
        ("POST", "/api/v1/auth/totp/confirm", {"code": "12345"}, 422, "code"),
        ("POST", "/api/v1/auth/totp/confirm", {"code": "123456"}, 409, "enroll first"),
    ],
    ids=["bad-name", "gov-no-region", "unknown-enterprise", "tech-with-scope", "duplicate", "unknown-role",
         "enterprises-not-list", "reset-unknown", "disable-unknown", "admin-scope", "scope-unknown-key",
         "totp-unknown", "token-id-text", "token-zero-days", "token-bad-scope", "token-no-scope", "totp-short",
         "totp-not-enrolled"],
)
def test_bad_requests_get_4xx_with_a_message(api_app_client: TestClient, admin_headers: dict, method: str, path: str,
                                             body: dict | None, status: int, message: str) -> None:
    r = api_app_client.request(method, path, headers=admin_headers, **({"json": body} if body is not None else {}))
    assert (r.status_code, message in r.text) == (status, True), r.text
