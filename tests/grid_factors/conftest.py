"""Fixtures of the electricity-carbon factor API tests: an app on the session database and its users.

Users: ``admin`` (root), ``gov`` (government CN-ZJ), ``gov_gd`` (government CN-GD), ``ent`` (enterprise of
gf-ent), ``tech`` (technician), ``anonymous`` (no token).
"""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from tests.api.conftest import ROOT, ROOT_PASSWORD, TEST_SETTINGS, ensure_root, login, make_user


@pytest.fixture(scope="session")
def client(database_url: str) -> Iterator[TestClient]:
    ensure_root(database_url)
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("INSERT INTO enterprises (enterprise_id, name, region, industry) VALUES"
                     " ('gf-ent', 'Grid factor test plant', 'CN-ZJ-HZ', 'steel') ON CONFLICT DO NOTHING")
    with TestClient(create_app(database_url, settings=TEST_SETTINGS)) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def headers(client: TestClient) -> dict[str, dict[str, str]]:
    """Bearer headers by user name (see the module docstring)."""
    admin = login(client, ROOT, ROOT_PASSWORD)
    return {"anonymous": {}, "admin": admin,
            "gov": make_user(client, admin, "government", region="CN-ZJ")[2],
            "gov_gd": make_user(client, admin, "government", region="CN-GD")[2],
            "ent": make_user(client, admin, "enterprise", enterprise_id="gf-ent")[2],
            "tech": make_user(client, admin, "technician")[2]}


@pytest.fixture
def db(database_url: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(database_url, autocommit=True) as conn:
        yield conn
