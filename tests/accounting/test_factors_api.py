"""The factor library through the API: read by every signed-in caller, new versions by administrators only,
never edited in place, every addition audited."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from carbon_domain.factors import FactorLibrary
from tests.accounting.conftest import audit_actions


def _row(series: str, factor_id: str, value: float, valid_from: str = "2025-01-01", **extra: Any) -> dict[str, Any]:
    return {"factor_id": factor_id, "key": "grid.test.region", "value": value, "unit": "tCO2/MWh",
            "scope": "national", "scope_id": "cn", "valid_from": valid_from, "series": series,
            "source": "test fixture, not a published value", **extra}


def test_filters_by_key_series_and_day(client: TestClient, headers: dict[str, dict[str, str]]) -> None:
    r = client.get("/api/v1/factors", headers=headers["ent"],
                   params={"key": "grid.cn.national_average", "series": "mee-national-average", "at": "2022-07-01"})
    assert r.status_code == 200, r.text
    assert [f["factor_id"] for f in r.json()["factors"]] == ["grid.cn.national_average@2022"]
    assert r.json()["resolved"]["value"] == 0.5366
    everything = client.get("/api/v1/factors", headers=headers["tech"]).json()["factors"]
    assert len(everything) >= len(FactorLibrary.default()) and {"factor_id", "source", "valid_from"} <= set(everything[0])


def test_an_administrator_publishes_a_new_version_that_then_resolves(
        client: TestClient, headers: dict[str, dict[str, str]], db: psycopg.Connection) -> None:
    series = f"test-{uuid.uuid4().hex[:6]}"
    first, second = f"grid.test.region@{series}.v1", f"grid.test.region@{series}.v2"
    for factor_id, value in ((first, 0.61), (second, 0.59)):
        r = client.post("/api/v1/factors", headers=headers["admin"], json=_row(series, factor_id, value))
        assert r.status_code == 201, r.text
    r = client.get("/api/v1/factors", headers=headers["gov"],
                   params={"key": "grid.test.region", "series": series, "at": "2025-06-30T12:00:00+08:00"})
    assert [f["factor_id"] for f in r.json()["factors"]] == [first, second]  # both kept, oldest first
    assert r.json()["resolved"]["factor_id"] == second  # the newest version wins
    assert audit_actions(db, first) == ["factor.create"] and audit_actions(db, second) == ["factor.create"]


def test_a_factor_id_is_never_reused(client: TestClient, headers: dict[str, dict[str, str]]) -> None:
    series = f"test-{uuid.uuid4().hex[:6]}"
    row = _row(series, f"grid.test.region@{series}", 0.5)
    assert client.post("/api/v1/factors", headers=headers["admin"], json=row).status_code == 201
    r = client.post("/api/v1/factors", headers=headers["admin"], json={**row, "value": 0.7})
    assert r.status_code == 409
    assert "never edited" in r.text
    stored = client.get("/api/v1/factors", headers=headers["admin"], params={"series": series}).json()["factors"]
    assert [f["value"] for f in stored] == [0.5]


@pytest.mark.parametrize("role", ["ent", "gov", "aud", "tech", "anonymous"])
def test_only_administrators_write_factors(client: TestClient, headers: dict[str, dict[str, str]],
                                           role: str) -> None:
    r = client.post("/api/v1/factors", headers=headers[role], json=_row("test-x", "grid.test.region@nope", 0.5))
    assert r.status_code == (401 if role == "anonymous" else 403)


@pytest.mark.parametrize(("change", "message"), [
    ({"factor_id": "other.key@2025"}, "must start with its key"),
    ({"value": -1}, "greater than or equal to 0"),
    ({"valid_to": "2024-01-01"}, "before valid_from"),
    ({"unit": "fraction", "value": 2}, "within 0..1"),
    ({"scope": "galaxy"}, "scope"),
    ({"series": "Has Spaces"}, "series"),
    ({"colour": "red"}, "colour"),
])
def test_bad_factor_rows_get_a_422_with_the_rule(client: TestClient, headers: dict[str, dict[str, str]],
                                                 change: dict[str, Any], message: str) -> None:
    r = client.post("/api/v1/factors", headers=headers["admin"],
                    json={**_row("test-bad", "grid.test.region@bad", 0.5), **change})
    assert r.status_code == 422
    assert message in r.text


def test_a_bad_time_gets_a_422(client: TestClient, headers: dict[str, dict[str, str]]) -> None:
    for at in ("yesterday", "2025-01-01T00:00:00"):
        r = client.get("/api/v1/factors", headers=headers["admin"], params={"key": "heat.default", "at": at})
        assert r.status_code == 422, r.text


def test_an_unresolvable_key_says_why(client: TestClient, headers: dict[str, dict[str, str]]) -> None:
    r = client.get("/api/v1/factors", headers=headers["admin"], params={"key": "fuel.nothing.ncv", "at": "2025-01-01"})
    assert r.status_code == 200
    assert r.json()["resolved"] is None and "no factor 'fuel.nothing.ncv'" in r.json()["resolve_error"]
