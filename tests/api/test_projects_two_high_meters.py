"""POST /api/v1/projects/{id}/two-high/{year}/from-meters: a 两高 project's actual energy and CO2 of a year come
from its bound meters, named 'meters' with their provenance, and the platform alarm two_high_exceeded is raised
while an actual figure exceeds the approved one and cleared once it does not.

Meters: device ``pj-meter`` of tests/api/test_projects_assets.py, whose January 2025 increases are 3.25 MWh
imported and 0.12 t diesel (and 215.40 MWh exported, which is no energy use). By the GB/T 2589 coefficients
(electricity calorific equivalent 0.1229 tce/MWh, diesel 1.4571 tce/t): 3.25 x 0.1229 + 0.12 x 1.4571
= 0.399425 + 0.174852 = 0.574277 tce."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import unique
from tests.api.test_projects_assets import PROJECTS, _ok, seeded, users  # noqa: F401  (fixtures)

ACTUAL_TCE = 3.25 * 0.1229 + 0.12 * 1.4571


def _alarm(database_url: str, subject: str) -> tuple[str, str | None, str] | None:
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT state, enterprise_id, detail FROM alarms WHERE rule = 'two_high_exceeded'"
                           " AND device_id = %s ORDER BY alarm_id DESC LIMIT 1", (subject,)).fetchone()
    return None if row is None else (row[0], row[1], row[2])


def test_two_high_actuals_come_from_bound_meters_and_raise_then_clear_the_alarm(
        api_app_client: TestClient, users: dict[str, Any], database_url: str) -> None:  # noqa: F811
    c, owner = api_app_client, users["owner"]
    project = _ok(c.post(PROJECTS, headers=owner, json={"enterprise_id": "pj-ent", "name": unique("kiln-m"),
                                                        "kind": "two_high", "grid_region": "east"}), 201)
    url = f"{PROJECTS}/{project['project_id']}"
    r = c.post(f"{url}/two-high/2025/from-meters", headers=owner)
    assert r.status_code == 422 and "no bound points" in r.json()["detail"]
    for point, role in (("import_kwh", "import"), ("diesel_t", "diesel"), ("export_kwh", "export")):
        _ok(c.put(f"{url}/points", headers=owner, json={"device_id": "pj-meter", "point": point, "role": role}))
    _ok(c.put(f"{url}/two-high/2025", headers=owner, json={"approved_tce": 0.5, "approved_tco2": 1000}))
    assert c.post(f"{url}/two-high/2025/from-meters", headers=users["government"]).status_code == 403

    got = _ok(c.post(f"{url}/two-high/2025/from-meters", headers=owner))

    assert got["actual_source"] == "meters"
    assert got["actual_tce"] == pytest.approx(ACTUAL_TCE)
    assert got["actual_tco2"] > 0
    provenance = got["actual_provenance"]
    assert provenance["months"] == ["2025-01"]
    assert "tce.electricity_calorific@gbt2589-2020" in provenance["factor_ids"]
    assert "tce.diesel@gbt2589-2020" in provenance["factor_ids"]
    assert [line.split(" (")[0] for line in provenance["left_out"]] == ["export"]
    over = f"({(ACTUAL_TCE - 0.5) / 0.5:.1%} over)"
    assert got["warnings"] == [f"actual energy {ACTUAL_TCE:.6g} tce exceeds the approved 0.5 tce {over}"]
    subject = f"two_high:{project['project_id']}:2025"
    state, enterprise, detail = _alarm(database_url, subject) or ("", None, "")
    assert (state, enterprise) == ("active", "pj-ent") and "exceeds the approved 0.5 tce" in detail

    _ok(c.put(f"{url}/two-high/2025", headers=owner, json={"approved_tce": 1}))
    assert (_alarm(database_url, subject) or ("",))[0] == "cleared"
    # a report's figure replaces the metered one and its provenance
    entered = _ok(c.put(f"{url}/two-high/2025", headers=owner, json={"actual_tce": 2, "actual_source": "report"}))
    assert (entered["actual_source"], entered["actual_provenance"]) == ("report", None)
    assert (_alarm(database_url, subject) or ("",))[0] == "active"


def test_two_high_from_meters_without_readings_in_the_year_says_to_wait_or_enter(
        api_app_client: TestClient, users: dict[str, Any]) -> None:  # noqa: F811
    c, owner = api_app_client, users["owner"]
    project = _ok(c.post(PROJECTS, headers=owner, json={"enterprise_id": "pj-ent", "name": unique("kiln-e"),
                                                        "kind": "two_high", "grid_region": "east"}), 201)
    url = f"{PROJECTS}/{project['project_id']}"
    _ok(c.put(f"{url}/points", headers=owner, json={"device_id": "pj-meter", "point": "import_kwh", "role": "import"}))
    r = c.post(f"{url}/two-high/2023/from-meters", headers=owner)
    assert r.status_code == 422 and "no readings in 2023" in r.json()["detail"]
