"""The reduction projects and carbon assets pages in a real headless Firefox (the driver of tests/web/test_firefox.py):
an enterprise user filters its projects by kind, opens a PV project and reads its stage, each monitoring period's
reduction and a period's factor rows, then its allowances on the assets page; all must be the API's.
Screenshot: tests/artifacts/firefox-projects.png."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.api.conftest import login
from tests.web.conftest import ARTIFACTS
from tests.web.test_firefox import _in_firefox, firefox  # noqa: F401  # the fixture, shared
from tests.web.test_projects_pages_web import ENTERPRISE, METER, YEAR, owner  # noqa: F401  # the fixture, shared

pytestmark = pytest.mark.timeout(900)


def test_projects_in_firefox_show_the_apis_stage_reductions_and_allowances(
        firefox: tuple[str, str], live_api: str, http: httpx.Client, owner: dict[str, Any]) -> None:  # noqa: F811
    manager = login(http, *owner["manager"])
    created = http.post("/api/v1/projects", headers=manager, json={
        "enterprise_id": ENTERPRISE, "name": f"Firefox PV {uuid.uuid4().hex[:6]}", "kind": "grid_pv",
        "grid_region": "east", "budget": 1000})
    assert created.status_code == 201, created.text
    url = f"/api/v1/projects/{created.json()['project_id']}"
    assert http.post(f"{url}/stage", headers=manager, json={"to_stage": "implementing"}).status_code == 200
    assert http.put(f"{url}/points", headers=manager,
                    json={"device_id": METER, "point": "export_kwh", "role": "export"}).status_code == 200
    period = http.post(f"{url}/periods", headers=manager, json={"month_from": "2025-01", "month_to": "2025-01"})
    assert period.status_code == 201, period.text
    r = http.put(f"/api/v1/assets/{ENTERPRISE}/allowances/{YEAR}", headers=owner["admin"],
                 json={"method": "entered", "amount": 990000})
    assert r.status_code in (201, 409), r.text  # allocated once; the Chromium tests may have done it
    compliance = http.get(f"/api/v1/assets/{ENTERPRISE}/compliance/{YEAR}", headers=manager).json()
    listed = [p for p in http.get("/api/v1/projects", headers=manager).json()["projects"] if p["kind"] == "grid_pv"]

    shot = ARTIFACTS / "firefox-projects.png"
    shot.unlink(missing_ok=True)
    seen = _in_firefox(firefox, page="projects", base=live_api, username=owner["manager"][0],
                       password=owner["manager"][1], screenshot=str(shot), projectId=created.json()["project_id"])
    expected = period.json()
    assert (seen["stage"], seen["er"], sorted(seen["factors"]), seen["allowances"], seen["errors"]) == (
        "implementing", [pytest.approx(expected["er_tco2"], rel=1e-12)], sorted(expected["provenance"]["factor_ids"]),
        pytest.approx(compliance["allowances"]), [])
    assert seen["rows"] == min(len(listed), 10)  # the kind filter leaves the PV projects, a page of ten at most
    assert shot.exists()
