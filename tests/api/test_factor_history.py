"""GET /factors/history: every version of a factor key with its source, when it was added, who published it and
which newer version replaced it, and the audit trail's factor.* entries; for the roles that read emissions."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import ROOT, unique


def _publish(client: TestClient, headers: dict[str, str], key: str, factor_id: str, value: float) -> None:
    r = client.post("/api/v1/factors", headers=headers, json={
        "factor_id": factor_id, "key": key, "value": value, "unit": "tCO2/GJ", "scope": "national",
        "scope_id": "cn", "valid_from": "2025-01-01", "series": "test-history", "source": f"test table, {value}"})
    assert r.status_code == 201, r.text


@pytest.fixture(scope="module")
def key(api_app_client: TestClient, admin_headers: dict[str, str]) -> str:
    """A key with two versions for the same period, published in that order by root."""
    name = f"heat.history_{unique('k').replace('-', '_')}"
    _publish(api_app_client, admin_headers, name, f"{name}@2025", 0.11)
    _publish(api_app_client, admin_headers, name, f"{name}@2025.v2", 0.12)
    return name


def test_a_republished_row_is_superseded_by_the_new_version_and_both_name_their_publisher(
        api_app_client: TestClient, admin_headers: dict[str, str], key: str) -> None:
    r = api_app_client.get("/api/v1/factors/history", headers=admin_headers, params={"key": key})
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    versions = {v["factor_id"]: (v["value"], v["superseded_by"], v["published_by"]) for v in body["versions"]}
    assert versions == {f"{key}@2025": (0.11, f"{key}@2025.v2", ROOT), f"{key}@2025.v2": (0.12, None, ROOT)}
    assert body["current"] == 1
    assert [(c["action"], c["target"], c["actor"]) for c in body["changes"]] == [
        ("factor.create", f"{key}@2025.v2", ROOT), ("factor.create", f"{key}@2025", ROOT)]
    assert body["changes"][0]["after"]["value"] == 0.12


def test_rows_shipped_with_the_platform_have_no_publisher_and_the_newest_year_is_current(
        api_app_client: TestClient, admin_headers: dict[str, str]) -> None:
    r = api_app_client.get("/api/v1/factors/history", headers=admin_headers,
                           params={"key": "grid.cn.national_average", "series": "mee-national-average"})
    versions = {v["factor_id"]: v for v in r.json()["versions"]}
    assert versions["grid.cn.national_average@2023"]["published_by"] is None
    assert versions["grid.cn.national_average@2023"]["source"]
    # one row per data year: none replaces another
    assert all(v["superseded_by"] is None for v in versions.values())


@pytest.mark.parametrize("role,status", [("anonymous", 401), ("technician", 403), ("enterprise", 200),
                                         ("government", 200), ("auditor", 200), ("admin", 200)])
def test_the_history_is_for_the_roles_that_read_emissions(api_app_client: TestClient,
                                                          role_headers: dict[str, dict[str, str]],
                                                          key: str, role: str, status: int) -> None:
    r = api_app_client.get("/api/v1/factors/history", headers=role_headers[role], params={"key": key})
    assert r.status_code == status, r.text


@pytest.mark.parametrize("params", [{"limit": "0"}, {"limit": "5000"}, {"key": "x" * 200}])
def test_bad_filters_are_a_422(api_app_client: TestClient, admin_headers: dict[str, str],
                               params: dict[str, str]) -> None:
    r = api_app_client.get("/api/v1/factors/history", headers=admin_headers, params=params)
    assert r.status_code == 422 and r.json()["detail"]
