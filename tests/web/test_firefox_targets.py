"""The carbon targets page in a real headless Firefox (the driver of tests/web/test_firefox.py): a government user
opens an issued target and its assessment, whose rows must be the API's holders and results, and a works' reduction
potential per process. Screenshots:
tests/artifacts/firefox-targets.png, firefox-reduction-potential.png."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.api.conftest import login
from tests.web.conftest import ARTIFACTS, Users
from tests.web.test_firefox import _in_firefox, firefox  # noqa: F401  # the fixture, shared
from tests.web.test_targets_web import CITY, lishui, seed_works  # noqa: F401  # the seeded data, shared

pytestmark = pytest.mark.timeout(900)


def test_target_assessment_in_firefox_shows_the_apis_holders_and_results(
        firefox: tuple[str, str], live_api: str, http: httpx.Client, users: Users,  # noqa: F811
        lishui: dict[str, Any]) -> None:  # noqa: F811
    gov = login(http, *users.government)
    created = http.post("/api/v1/analysis/targets", headers=gov, json={
        "region": CITY, "name": "firefox 2026 cap", "kind": "total", "year": 2026, "base_year": 2025,
        "value": 5000, "holder_level": "unit", "rule": "equal_rate"})
    assert created.status_code == 201, created.text
    tid = created.json()["target_id"]
    assert http.post(f"/api/v1/analysis/targets/{tid}/issue", headers=gov).status_code == 200
    result = http.get(f"/api/v1/analysis/targets/{tid}/assessment", headers=gov).json()
    shot = ARTIFACTS / "firefox-targets.png"
    shot.unlink(missing_ok=True)
    seen = _in_firefox(firefox, page="targets", base=live_api, username=users.government[0],
                       password=users.government[1], screenshot=str(shot), targetId=tid)
    expected = {h["holder"]: h["met"] for h in result["holders"]}
    assert (seen["holders"], seen["rows"], bool(seen["state"]), seen["errors"]) == (
        expected, len(result["holders"]), True, [])


def test_reduction_potential_in_firefox_shows_the_apis_processes(
        firefox: tuple[str, str], live_api: str, http: httpx.Client, users: Users,  # noqa: F811
        lishui: dict[str, Any], database_url: str) -> None:  # noqa: F811
    works = seed_works(http, lishui["admin"], database_url)
    api = http.get(f"/api/v1/analysis/reduction-potential/{works}", headers=login(http, *users.government),
                   params={"year": 2025}).json()
    shot = ARTIFACTS / "firefox-reduction-potential.png"
    shot.unlink(missing_ok=True)
    seen = _in_firefox(firefox, page="reductionPotential", base=live_api, username=users.government[0],
                       password=users.government[1], screenshot=str(shot), choice=f"{works}/2025")
    assert (seen["statuses"], seen["toBenchmark"], seen["errors"]) == (
        {row["process"]: row["status"] for row in api["processes"]}, pytest.approx(api["to_benchmark_tco2"]), [])
