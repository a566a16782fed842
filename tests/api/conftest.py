"""API fixtures: an app on the session database, an administrator, users of every role, and two-region data.

Data for the access tests (prefix ``m-``)::

    m-ent-a  region CN-ZJ     site m-site-a  device m-dev-a  gateway m-gw-a  1.0 tCO2
    m-ent-b  region CN-GD     site m-site-b  device m-dev-b  gateway m-gw-b  2.0 tCO2
    m-ent-c  region CN-ZJ-HZ  site m-site-c  device m-dev-c                  3.0 tCO2
"""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from fastapi.testclient import TestClient

from api.auth import security
from api.main import create_app
from api.settings import ApiSettings
from tests.api.serving import serve
from tests.conftest import free_port

ROOT = "root"
ROOT_PASSWORD = "Root-Password-2026!"
# cheaper hashing than production (2**15) keeps the suite quick; parameters are stored per hash anyway
FAST = {"scrypt_n": 2**14}
# the gateway registry's certificates and broker ACL go to a directory of this run, never the developer's home
TEST_SETTINGS = ApiSettings(**FAST, rate_burst=100_000, anonymous_rate_burst=100_000,
                            gateway_home=Path(tempfile.mkdtemp(prefix="carbonflow-gateways-")))
T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
ROLE_SCOPES: dict[str, dict[str, Any]] = {
    "government": {"region": "CN-ZJ"},
    "enterprise": {"enterprise_id": "m-ent-b"},
    "auditor": {"enterprises": ["m-ent-a", "m-ent-b"]},
    "technician": {},
}


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def new_password() -> str:
    return security.generate_password()


def login(client: httpx.Client, username: str, password: str, totp: str | None = None) -> dict[str, str]:
    """Bearer headers of a fresh session, through the app (TestClient) or a served API (httpx.Client); fails the
    test when the login is refused."""
    body = {"username": username, "password": password, **({"totp": totp} if totp else {})}
    r = client.post("/api/v1/auth/login", json=body)
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


def make_user(client: TestClient, admin: dict[str, str], role: str, *, username: str | None = None,
              **scope: Any) -> tuple[str, str, dict[str, str]]:
    """Create a user through the admin API, log in and do the forced password change: (name, password, headers)."""
    username = username or unique(f"u-{role}")
    r = client.post("/api/v1/users", headers=admin, json={"username": username, "role": role, **scope})
    assert r.status_code == 201, r.text
    first = r.json()["password"]
    headers = login(client, username, first)
    password = new_password()
    r = client.post("/api/v1/auth/password", headers=headers,
                    json={"current_password": first, "new_password": password})
    assert r.status_code == 200, r.text
    return username, password, headers


def ensure_root(database_url: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO users (username, role, password_hash, must_change_password) VALUES (%s, 'admin', %s, false)"
            " ON CONFLICT (username) DO UPDATE SET password_hash = EXCLUDED.password_hash, disabled = false,"
            " must_change_password = false, password_changed_at = now()",
            (ROOT, security.hash_password(ROOT_PASSWORD, n=FAST["scrypt_n"])),
        )


def _seed_access_data(conn: psycopg.Connection) -> None:
    now = datetime.now(UTC)
    for tag, region, tco2 in (("a", "CN-ZJ", 1.0), ("b", "CN-GD", 2.0), ("c", "CN-ZJ-HZ", 3.0)):
        conn.execute("INSERT INTO enterprises (enterprise_id, name, region) VALUES (%s, %s, %s)",
                     (f"m-ent-{tag}", f"Matrix {tag}", region))
        conn.execute("INSERT INTO sites (site_id, enterprise_id, name) VALUES (%s, %s, %s)",
                     (f"m-site-{tag}", f"m-ent-{tag}", f"Matrix site {tag}"))
        gateway = f"m-gw-{tag}" if tag != "c" else None
        if gateway:
            conn.execute("INSERT INTO gateways (gateway_id, site_id) VALUES (%s, %s)", (gateway, f"m-site-{tag}"))
        conn.execute("INSERT INTO devices (device_id, site_id, process, gateway_id) VALUES (%s, %s, 'rolling', %s)",
                     (f"m-dev-{tag}", f"m-site-{tag}", gateway))
        key = conn.execute("INSERT INTO gateways (gateway_id) VALUES (%s) RETURNING gateway_key",
                           (f"m-key-{tag}",)).fetchone()[0]  # type: ignore[index]
        pkey = conn.execute("INSERT INTO points (device_id, point, unit, kind) VALUES (%s, 'power_kw', 'kW', 'gauge')"
                            " RETURNING point_key", (f"m-dev-{tag}",)).fetchone()[0]  # type: ignore[index]
        conn.execute("INSERT INTO readings (gateway_key, seq, ts, point_key, value, quality) VALUES"
                     " (%s, 1, %s, %s, 10, 0), (%s, 2, %s, %s, 11, 0)",
                     (key, T0, pkey, key, now - timedelta(minutes=1), pkey))
        conn.execute(
            "INSERT INTO emissions (gateway_key, seq, ts, start_ts, point_key, site_id, activity, quantity,"
            " quantity_unit, tco2, factor_ids, formula, quality) VALUES"
            " (%s, 3, %s, %s, %s, %s, 'electricity', 1, 'MWh', %s, ARRAY['f@1'], 'electricity/test', 0)",
            (key, T0 + timedelta(minutes=10), T0, pkey, f"m-site-{tag}", tco2),
        )
        # written around the stream job: its scope rollups, rebuilt as `carbonflow recompute` does
        conn.execute("SELECT cf_rebuild_scope_rollups(%s, %s, %s)", (f"m-site-{tag}", T0, T0 + timedelta(hours=1)))


@pytest.fixture(scope="session")
def api_app_client(database_url: str) -> Iterator[TestClient]:
    """One app for the API tests, with generous rate limits; root is its administrator."""
    ensure_root(database_url)
    with psycopg.connect(database_url, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM enterprises WHERE enterprise_id = 'm-ent-a'").fetchone() is None:
            with conn.transaction():
                _seed_access_data(conn)
    with TestClient(create_app(database_url, settings=TEST_SETTINGS)) as client:
        yield client


@pytest.fixture(scope="session")
def admin_headers(api_app_client: TestClient) -> dict[str, str]:
    return login(api_app_client, ROOT, ROOT_PASSWORD)


@pytest.fixture(scope="session")
def role_headers(api_app_client: TestClient, admin_headers: dict[str, str]) -> dict[str, dict[str, str]]:
    """Bearer headers for one user of every role (admin is root) and {} for anonymous."""
    headers = {"anonymous": {}, "admin": admin_headers}
    for role, scope in ROLE_SCOPES.items():
        headers[role] = make_user(api_app_client, admin_headers, role, **scope)[2]
    return headers


@pytest.fixture
def db(database_url: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(database_url, autocommit=True) as conn:
        yield conn


@pytest.fixture(scope="session")
def live_api(database_url: str, api_app_client: TestClient) -> Iterator[str]:
    """The API served by uvicorn on a free loopback port, in a thread, for streams and browsers: its base URL.
    Same database and settings as `api_app_client` (whose seed data it sees)."""
    ensure_root(database_url)
    with serve(create_app(database_url, settings=TEST_SETTINGS), free_port()) as url:
        yield url
