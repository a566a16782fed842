"""Fixtures of the GHG-accounting API tests: an app on the session database, enterprises and users.

Enterprises (prefix ``acc-``)::

    acc-worked  CN-ZJ-NB  METHODS section 1 worked example (entered data only)
    acc-steel   CN-ZJ-NB  a month of metered data plus entered fluxes and products (site acc-steel-s1)
    acc-flow    CN-ZJ-NB  the report workflow
    acc-eyes    CN-ZJ-NB  four-eyes review
    acc-cross   CN-ZJ-NB  cross-check of entered energy against metered totals (site acc-cross-s1)
    acc-gd      CN-GD     outside the Zhejiang users' scope

Users: ``ent`` (enterprise of acc-flow), ``ent_gd`` (enterprise of acc-gd), ``gov`` and ``gov2`` (government
CN-ZJ), ``gov_gd`` (government CN-GD), ``aud`` (auditor of acc-flow and acc-steel), ``aud_gd`` (auditor of
acc-gd), ``tech`` (technician), ``admin`` (root), ``admin2``..``admin4`` (more administrators), ``anonymous``
(no token).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from tests.api.conftest import (
    ROOT,
    ROOT_PASSWORD,
    TEST_SETTINGS,
    ensure_root,
    login,
    make_user,
)

ENTERPRISES = {
    "acc-worked": ("Worked example light industry", "CN-ZJ-NB", "light"),
    "acc-steel": ("宁波示例钢铁有限公司", "CN-ZJ-NB", "steel"),
    "acc-flow": ("Workflow steel", "CN-ZJ-NB", "steel"),
    "acc-eyes": ("Four-eyes steel", "CN-ZJ-NB", "steel"),
    "acc-cross": ("Cross-check steel", "CN-ZJ-NB", "steel"),
    "acc-gd": ("Guangdong steel", "CN-GD", "steel"),
}
USERS: dict[str, tuple[str, dict[str, Any]]] = {
    "ent": ("enterprise", {"enterprise_id": "acc-flow"}),
    "ent_gd": ("enterprise", {"enterprise_id": "acc-gd"}),
    "gov": ("government", {"region": "CN-ZJ"}),
    "gov2": ("government", {"region": "CN-ZJ"}),
    "gov_gd": ("government", {"region": "CN-GD"}),
    "aud": ("auditor", {"enterprises": ["acc-flow", "acc-steel"]}),
    "aud_gd": ("auditor", {"enterprises": ["acc-gd"]}),
    "tech": ("technician", {}),
    "admin2": ("admin", {}),
    "admin3": ("admin", {}),
    "admin4": ("admin", {}),
}


def _seed(conn: psycopg.Connection) -> None:
    for enterprise, (name, region, industry) in ENTERPRISES.items():
        conn.execute("INSERT INTO enterprises (enterprise_id, name, region, industry) VALUES (%s, %s, %s, %s)"
                     " ON CONFLICT DO NOTHING", (enterprise, name, region, industry))
        conn.execute("INSERT INTO sites (site_id, enterprise_id, name, province) VALUES (%s, %s, %s, %s)"
                     " ON CONFLICT DO NOTHING", (f"{enterprise}-s1", enterprise, f"{name} 一厂",
                                                 "guangdong" if region == "CN-GD" else "zhejiang"))


@pytest.fixture(scope="session")
def client(database_url: str) -> Iterator[TestClient]:
    ensure_root(database_url)
    with psycopg.connect(database_url, autocommit=True) as conn, conn.transaction():
        _seed(conn)
    with TestClient(create_app(database_url, settings=TEST_SETTINGS)) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def headers(client: TestClient) -> dict[str, dict[str, str]]:
    """Bearer headers by user name (see the module docstring)."""
    admin = login(client, ROOT, ROOT_PASSWORD)
    found = {"anonymous": {}, "admin": admin}
    for name, (role, scope) in USERS.items():
        found[name] = make_user(client, admin, role, **scope)[2]
    return found


@pytest.fixture
def db(database_url: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(database_url, autocommit=True) as conn:
        yield conn


def audit_actions(db: psycopg.Connection, target: str) -> list[str]:
    """The audit actions recorded for a target, oldest first."""
    return [r[0] for r in db.execute("SELECT action FROM audit_log WHERE target = %s ORDER BY audit_id",
                                     (target,)).fetchall()]
