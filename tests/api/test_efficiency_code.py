"""/api/v1/efficiency-code: 碳效码 configuration versions stored and activated by administrators (audited, never
changed once stored, bad ones a 422 naming the setting), other roles refused; results kept per configuration
version, so that recomputing a year under a new version keeps the old results."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.efficiency_code import queries
from carbon_domain.efficiency_code import DEFAULT_CONFIG, EfficiencyCodeConfig, UnitInput, calendar_year, compute_codes
from tests.api.conftest import unique

CONFIGS = "/api/v1/efficiency-code/configs"


def _config(version: str, **changes: Any) -> dict[str, Any]:
    return {**DEFAULT_CONFIG.model_dump(mode="json"), "version": version, **changes}


def _audit(client: TestClient, admin: dict[str, str], action: str, target: str) -> list[dict[str, Any]]:
    r = client.get("/api/v1/audit", headers=admin, params={"action": action, "limit": 50})
    assert r.status_code == 200, r.text
    return [e for e in r.json()["entries"] if e["target"] == target]


@pytest.fixture
def restore_built_in(api_app_client: TestClient, admin_headers: dict[str, str]) -> Iterator[None]:
    """Put the built-in version back in force after a test that activates another."""
    yield
    r = api_app_client.post(f"{CONFIGS}/{DEFAULT_CONFIG.version}/activate", headers=admin_headers)
    assert r.status_code == 200, r.text


def test_the_built_in_version_holds_the_methods_values_with_their_check_marks(
        api_app_client: TestClient, admin_headers: dict[str, str]) -> None:
    r = api_app_client.get(f"{CONFIGS}/{DEFAULT_CONFIG.version}", headers=admin_headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["built_in"] is True
    assert body["config"]["grade_boundaries"] == [0.6, 0.8, 1.2, 2.0]
    assert "level_thresholds" in body["config"]["unverified"] and "[check]" in body["config"]["source"]
    listed = api_app_client.get(CONFIGS, headers=admin_headers).json()
    assert DEFAULT_CONFIG.version in [v["version"] for v in listed["versions"]]


def test_admin_stores_a_version_audited_and_it_is_in_force_only_once_activated(
        api_app_client: TestClient, admin_headers: dict[str, str], restore_built_in: None) -> None:
    version = unique("strict")
    r = api_app_client.post(CONFIGS, headers=admin_headers,
                            json=_config(version, grade_boundaries=[0.5, 0.7, 0.9, 1.1]))
    assert r.status_code == 201, r.text
    assert (r.json()["active"], r.json()["created_by"]) == (False, "root")
    assert api_app_client.get(f"{CONFIGS}/active", headers=admin_headers).json()["version"] != version
    created = _audit(api_app_client, admin_headers, "efficiency_code.config.create", version)
    assert len(created) == 1 and created[0]["after"]["config"]["grade_boundaries"] == [0.5, 0.7, 0.9, 1.1]

    r = api_app_client.post(f"{CONFIGS}/{version}/activate", headers=admin_headers)
    assert r.status_code == 200, r.text
    active = api_app_client.get(f"{CONFIGS}/active", headers=admin_headers).json()
    assert (active["version"], active["active"]) == (version, True)
    activated = _audit(api_app_client, admin_headers, "efficiency_code.config.activate", version)
    assert len(activated) == 1 and activated[0]["after"] == {"active": version}


@pytest.mark.parametrize("taken", ["stored", "built-in"])
def test_a_stored_version_cannot_be_changed(api_app_client: TestClient, admin_headers: dict[str, str],
                                            taken: str) -> None:
    version = DEFAULT_CONFIG.version if taken == "built-in" else unique("once")
    if taken == "stored":
        assert api_app_client.post(CONFIGS, headers=admin_headers, json=_config(version)).status_code == 201
    r = api_app_client.post(CONFIGS, headers=admin_headers, json=_config(version, min_industry_sample=9))
    assert r.status_code == 409, r.text
    assert "store the edit under a new version name" in r.json()["detail"]
    assert api_app_client.get(f"{CONFIGS}/{version}", headers=admin_headers).json()["config"][
        "min_industry_sample"] == DEFAULT_CONFIG.min_industry_sample


def test_the_database_refuses_to_change_a_stored_version(api_app_client: TestClient, admin_headers: dict[str, str],
                                                         db: psycopg.Connection) -> None:
    version = unique("frozen")
    assert api_app_client.post(CONFIGS, headers=admin_headers, json=_config(version)).status_code == 201
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        db.execute("UPDATE efficiency_code_configs SET created_by = 'x' WHERE version = %s", (version,))


@pytest.mark.parametrize(("changes", "message"), [
    ({"neutrality_formula": "__import__('os').system('true')"}, "is not allowed"),
    ({"grade_boundaries": [0.6, 0.8, 0.7, 2.0]}, "positive and increasing"),
    ({"level_thresholds": {"low_max": 3, "medium_max": 2}}, "low_max 3.0 must be below medium_max 2.0"),
    ({"thresholds": [1, 2]}, "Extra inputs are not permitted"),
    ({"version": "active"}, "version name 'active' is reserved"),
])
def test_a_bad_configuration_is_a_422_naming_what_is_wrong(api_app_client: TestClient, admin_headers: dict[str, str],
                                                           changes: dict[str, Any], message: str) -> None:
    r = api_app_client.post(CONFIGS, headers=admin_headers, json={**_config(unique("bad")), **changes})
    assert r.status_code == 422, r.text
    assert message in r.text


def test_activating_an_unknown_version_is_a_404(api_app_client: TestClient, admin_headers: dict[str, str]) -> None:
    r = api_app_client.post(f"{CONFIGS}/no-such-version/activate", headers=admin_headers)
    assert r.status_code == 404 and "store it first" in r.json()["detail"]


@pytest.mark.parametrize("role", ["government", "enterprise", "auditor", "technician", "anonymous"])
def test_only_administrators_use_the_efficiency_code_configuration(
        api_app_client: TestClient, role_headers: dict[str, dict[str, str]], role: str) -> None:
    expected = 401 if role == "anonymous" else 403
    headers = role_headers[role]
    assert api_app_client.get(CONFIGS, headers=headers).status_code == expected
    assert api_app_client.post(CONFIGS, headers=headers, json=_config(unique("x"))).status_code == expected
    assert api_app_client.post(f"{CONFIGS}/{DEFAULT_CONFIG.version}/activate",
                               headers=headers).status_code == expected
    for path in ("results", "runs"):
        assert api_app_client.get(f"/api/v1/efficiency-code/{path}", headers=headers,
                                  params={"period": "2025"}).status_code == expected


def _units(tag: str) -> list[UnitInput]:
    return [UnitInput(unit_id=f"{tag}-{i}", industry_code="3130", in_production=True, energy_co2_t=energy,
                      own_generation_mwh=0.0, electricity_factor_t_per_mwh=0.5306, sinks_t=0.0,
                      value_added_10k_yuan=1000.0, factor_row_ids=("grid@2025",))
            for i, energy in enumerate([500.0, 750.0, 1000.0, 1250.0, 1500.0])] + [
        UnitInput(unit_id=f"{tag}-water", industry_code="4610", in_production=True, energy_co2_t=10.0,
                  own_generation_mwh=0.0, electricity_factor_t_per_mwh=0.5306, sinks_t=0.0,
                  value_added_10k_yuan=10.0)]


async def _save(database_url: str, units: list[UnitInput], config: EfficiencyCodeConfig, reason: str) -> int:
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        return await queries.save_results(conn, results=compute_codes(units, calendar_year(2024), config),
                                          config=config, reason=reason, computed_by="test")


def test_recomputing_a_year_under_a_new_version_keeps_the_old_results(
        api_app_client: TestClient, admin_headers: dict[str, str], database_url: str) -> None:
    tag = unique("fleet")
    units = _units(tag)
    strict = DEFAULT_CONFIG.model_copy(update={"version": unique("strict"), "grade_boundaries": (0.5, 0.7, 0.9, 1.1)})
    asyncio.run(_save(database_url, units, DEFAULT_CONFIG, f"{tag}: first computation"))
    asyncio.run(_save(database_url, units, strict, f"{tag}: new configuration version"))
    latest = asyncio.run(_save(database_url, units, strict, f"{tag}: corrected figure"))  # replaces its rows

    def grades(version: str) -> dict[str, int | None]:
        r = api_app_client.get("/api/v1/efficiency-code/results", headers=admin_headers,
                               params={"period": "2024", "config_version": version})
        assert r.status_code == 200, r.text
        return {row["unit_id"]: row["grade"] for row in r.json()["results"] if row["unit_id"].startswith(tag)}

    # L_industry = 5000 / 5000 = 1.0, so K = L: 0.5, 0.75, 1.0, 1.25, 1.5
    assert grades(DEFAULT_CONFIG.version) == {f"{tag}-0": 1, f"{tag}-1": 2, f"{tag}-2": 3, f"{tag}-3": 4,
                                              f"{tag}-4": 4, f"{tag}-water": None}
    assert grades(strict.version) == {f"{tag}-0": 1, f"{tag}-1": 3, f"{tag}-2": 4, f"{tag}-3": 5, f"{tag}-4": 5,
                                      f"{tag}-water": None}
    r = api_app_client.get("/api/v1/efficiency-code/results", headers=admin_headers,
                           params={"period": "2024", "config_version": strict.version})
    row = next(row for row in r.json()["results"] if row["unit_id"] == f"{tag}-0")
    assert row["provenance"]["industry"]["sample_size"] == 5
    assert row["provenance"]["factor_row_ids"] == ["grid@2025"]
    water = next(row for row in r.json()["results"] if row["unit_id"] == f"{tag}-water")
    assert (water["excluded_reason"], water["code"], water["run_id"]) == ("excluded_industry", None, latest)


def test_every_computation_of_a_period_is_recorded_as_a_run(
        api_app_client: TestClient, admin_headers: dict[str, str], database_url: str) -> None:
    tag = unique("runs")
    first = asyncio.run(_save(database_url, _units(tag), DEFAULT_CONFIG, f"{tag}: first computation"))
    again = asyncio.run(_save(database_url, _units(tag)[:-1], DEFAULT_CONFIG, f"{tag}: a corrected figure"))
    r = api_app_client.get("/api/v1/efficiency-code/runs", headers=admin_headers, params={"period": "2024"})
    assert r.status_code == 200, r.text
    mine = [(run["run_id"], run["reason"], run["units"], run["coded"]) for run in r.json()["runs"]
            if run["reason"].startswith(tag)]
    assert mine == [(again, f"{tag}: a corrected figure", 5, 5), (first, f"{tag}: first computation", 6, 5)]
