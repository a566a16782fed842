"""The first administrator and the demo users, on a database of their own (no admin in it yet)."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.auth.bootstrap import ensure_admin, ensure_demo_users
from api.errors import BootstrapError
from api.main import create_app
from api.settings import ApiSettings
from tests.api.conftest import FAST, login
from tests.conftest import migrated_database


@pytest.fixture
def empty_url(postgres_server: str) -> Iterator[str]:
    """A freshly migrated database without users."""
    with migrated_database(postgres_server, "cf_boot") as url:
        yield url


def test_first_start_creates_an_admin_with_a_one_time_password_logged_once(
    empty_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="carbonflow.api")
    with psycopg.connect(empty_url, autocommit=True) as conn:
        password = ensure_admin(conn, settings=ApiSettings(**FAST))
        again = ensure_admin(conn, settings=ApiSettings(**FAST))
        row = conn.execute("SELECT role, must_change_password FROM users WHERE username = 'admin'").fetchone()
    logged = [r.getMessage() for r in caplog.records if password and password in r.getMessage()]
    assert (row, again, len(logged)) == (("admin", True), None, 1)


def test_admin_password_from_the_environment_is_used(empty_url: str) -> None:
    settings = ApiSettings(**FAST, admin_username="chief", admin_password="Chief-Admin-Pass-2026")
    with psycopg.connect(empty_url, autocommit=True) as conn:
        generated = ensure_admin(conn, settings=settings)
    with TestClient(create_app(empty_url, settings=settings)) as client:
        me = client.get("/api/v1/auth/me", headers=login(client, "chief", "Chief-Admin-Pass-2026")).json()
    assert (generated, me["role"], me["must_change_password"]) == (None, "admin", False)


@pytest.mark.parametrize("placeholder", ["admin", "password", "changeme", "Admin"])
def test_placeholder_admin_password_is_refused_outside_development(empty_url: str, placeholder: str) -> None:
    with psycopg.connect(empty_url, autocommit=True) as conn:
        with pytest.raises(BootstrapError, match="CARBONFLOW_ADMIN_PASSWORD rejected"):
            ensure_admin(conn, settings=ApiSettings(**FAST, admin_password=placeholder))
        assert conn.execute("SELECT count(*) FROM users").fetchone() == (0,)


def test_placeholder_admin_password_is_accepted_in_development(empty_url: str) -> None:
    with psycopg.connect(empty_url, autocommit=True) as conn:
        ensure_admin(conn, settings=ApiSettings(**FAST, admin_password="admin", environment="development"))
        assert conn.execute("SELECT role FROM users WHERE username = 'admin'").fetchone() == ("admin",)


def test_app_refuses_to_start_with_a_placeholder_admin_password(empty_url: str) -> None:
    app = create_app(empty_url, settings=ApiSettings(**FAST, admin_password="password"))
    with pytest.raises(BootstrapError), TestClient(app):
        pass


def test_app_start_creates_the_admin(empty_url: str) -> None:
    with TestClient(create_app(empty_url, settings=ApiSettings(**FAST))):
        pass
    with psycopg.connect(empty_url) as conn:
        assert conn.execute("SELECT action, actor_kind FROM audit_log").fetchall() == [("bootstrap.admin", "system")]


def test_demo_users_log_in_with_the_returned_credentials_and_see_their_scope(empty_url: str) -> None:
    with psycopg.connect(empty_url, autocommit=True) as conn:
        conn.execute("INSERT INTO enterprises VALUES ('demo-steel', 'Demo', 'CN-ZJ', NULL), ('other', 'O', 'CN-GD', NULL)")
        conn.execute("INSERT INTO sites VALUES ('demo-steelworks', 'demo-steel', 'D', NULL, NULL),"
                     " ('other-site', 'other', 'O', NULL, NULL)")
        conn.execute("INSERT INTO devices (device_id, site_id) VALUES ('elec-main', 'demo-steelworks'),"
                     " ('other-meter', 'other-site')")
        first = ensure_demo_users(conn, scrypt_n=FAST["scrypt_n"])
        creds = ensure_demo_users(conn, enterprise_id="demo-steel", scrypt_n=FAST["scrypt_n"])  # resets passwords
    seen = {}
    with TestClient(create_app(empty_url, settings=ApiSettings(**FAST, bootstrap_admin=False))) as client:
        stale = client.post("/api/v1/auth/login", json={"username": "demo-admin", "password": first["admin"].password})
        for role, c in creds.items():
            devices = client.get("/api/v1/devices", headers=login(client, c.username, c.password)).json()["devices"]
            seen[role] = sorted(d["device_id"] for d in devices)
    assert stale.status_code == 401
    assert seen == {"admin": ["elec-main", "other-meter"], "government": ["elec-main"], "enterprise": ["elec-main"],
                    "auditor": ["elec-main"], "technician": ["elec-main", "other-meter"]}
