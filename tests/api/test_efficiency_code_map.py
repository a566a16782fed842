"""GET /api/v1/efficiency-code/distribution/regions: the grade map's figures (grade counts, mean grade and share of
grades 4-5 per sub-region of a province or city) over the caller's units, for a calendar year or a rolling 12
months, with the configuration and formula versions; refused outside the caller's region and for a county. A stored
rolling 12 months is recomputed, like a year, when a figure of one of its months is corrected."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import make_user
from tests.api.efficiency_seed import STEEL, seed_prefecture

BASE = "/api/v1/efficiency-code"
ROLLING = "2024-07..2025-06"


@pytest.fixture(scope="module")
def seeded(database_url: str, api_app_client: TestClient) -> dict[str, int]:
    return seed_prefecture(database_url)


@pytest.fixture(scope="module")
def huzhou(api_app_client: TestClient, admin_headers: dict[str, str]) -> dict[str, str]:
    return make_user(api_app_client, admin_headers, "government", region="CN-ZJ-HU")[2]


def _expected(units: list[dict[str, Any]], key: Any) -> dict[str, tuple[dict[str, int], float | None, float | None]]:
    """Per sub-region, from the units' own grades: counts, mean grade and share of grades 4-5 among coded units."""
    grades: dict[str, list[int | None]] = defaultdict(list)
    for unit in units:
        grades[key(unit["region_code"])].append(unit["grade"])
    out = {}
    for region, found in grades.items():
        tally = Counter("none" if g is None else str(g) for g in found)
        coded = [g for g in found if g is not None]
        counts = {**{str(g): tally[str(g)] for g in range(1, 6)}, "none": tally["none"], "total": len(found)}
        out[region] = (counts, sum(coded) / len(coded) if coded else None,
                       sum(g >= 4 for g in coded) / len(coded) if coded else None)
    return out


def _shown(body: dict[str, Any]) -> dict[str, tuple[dict[str, int], float | None, float | None]]:
    return {g["key"]: (g["counts"], g["mean_grade"], g["worst_share"]) for g in body["groups"]}


def _close(a: dict[str, tuple], b: dict[str, tuple]) -> bool:
    return a.keys() == b.keys() and all(
        a[k][0] == b[k][0] and (a[k][1] is None) == (b[k][1] is None) and (a[k][1] is None or (
            abs(a[k][1] - b[k][1]) < 1e-9 and abs(a[k][2] - b[k][2]) < 1e-9)) for k in a)


def test_a_citys_map_gives_each_countys_grade_counts_mean_grade_and_worst_share_of_the_callers_units(
        api_app_client: TestClient, huzhou: dict[str, str], seeded: dict[str, int]) -> None:
    r = api_app_client.get(f"{BASE}/distribution/regions", headers=huzhou, params={"region": "330500", "period": "2025"})
    assert r.status_code == 200, r.text
    body = r.json()
    units = api_app_client.get(f"{BASE}/units", headers=huzhou, params={"period": "2025"}).json()["units"]
    active = api_app_client.get(f"{BASE}/units", headers=huzhou).json()["config_version"]
    mine = [u for u in units if u["region_code"].startswith("3305")]
    assert (_close(_shown(body), _expected(mine, lambda code: code)),
            {"330502", "330521", "330522"} <= set(_shown(body)), body["total"]["counts"]["total"] == len(mine),
            body["region"]["level"], body["period_kind"], body["synthetic"],
            body["config_version"] == body["provenance"]["config_version"] == active,
            body["provenance"]["worst_grades"], bool(body["provenance"]["formula_version"])) == (
        True, True, True, 2, "calendar_year", True, True, [4, 5], True)


def test_a_provinces_map_groups_the_units_by_city(api_app_client: TestClient, admin_headers: dict[str, str],
                                                  seeded: dict[str, int]) -> None:
    r = api_app_client.get(f"{BASE}/distribution/regions", headers=admin_headers,
                           params={"region": "330000", "period": "2025"})
    assert r.status_code == 200, r.text
    units = api_app_client.get(f"{BASE}/units", headers=admin_headers, params={"period": "2025"}).json()["units"]
    zhejiang = [u for u in units if u["region_code"].startswith("33")]
    assert (_close(_shown(r.json()), _expected(zhejiang, lambda code: code[:4] + "00")),
            "330500" in _shown(r.json()), r.json()["region"]["level"]) == (True, True, 1)


def test_a_rolling_12_months_map_shows_the_codes_of_that_period(
        api_app_client: TestClient, huzhou: dict[str, str], seeded: dict[str, int]) -> None:
    job = api_app_client.post(f"{BASE}/compute", headers=huzhou, json={"periods": [ROLLING]})
    assert job.status_code == 202, job.text
    assert api_app_client.get(f"{BASE}/jobs/{job.json()['job_id']}", headers=huzhou).json()["state"] == "done"
    r = api_app_client.get(f"{BASE}/distribution/regions", headers=huzhou, params={"region": "330500", "period": ROLLING})
    assert r.status_code == 200, r.text
    units = api_app_client.get(f"{BASE}/units", headers=huzhou, params={"period": ROLLING}).json()["units"]
    mine = [u for u in units if u["region_code"].startswith("3305")]
    assert (_close(_shown(r.json()), _expected(mine, lambda code: code)), r.json()["period"], r.json()["period_kind"],
            sum(u["grade"] is not None for u in mine) > 100) == (True, ROLLING, "rolling_12", True)


def test_a_corrected_figure_recomputes_the_stored_rolling_12_months_holding_its_month(
        api_app_client: TestClient, huzhou: dict[str, str], seeded: dict[str, int]) -> None:
    earlier = "2023-07..2024-06"  # stored too, but without the corrected month
    job = api_app_client.post(f"{BASE}/compute", headers=huzhou, json={"periods": [ROLLING, earlier]})
    assert job.status_code == 202, job.text
    unit_id = seeded[STEEL.credit_code]
    before = api_app_client.get(f"{BASE}/recomputations", headers=huzhou, params={"period": ROLLING}).json()["runs"]
    outside = api_app_client.get(f"{BASE}/recomputations", headers=huzhou, params={"period": earlier}).json()["runs"]
    r = api_app_client.put(f"/api/v1/monitoring/units/{unit_id}/figures/2025-03/value_added", headers=huzhou,
                           json={"quantity": 98765.0, "unit": "1e4CNY", "reason": "statistics bureau correction"})
    assert r.status_code == 200, r.text
    runs = api_app_client.get(f"{BASE}/recomputations", headers=huzhou, params={"period": ROLLING}).json()["runs"]
    assert (len(runs) - len(before), "corrected monthly figures" in runs[0]["reason"], str(unit_id) in runs[0]["reason"],
            api_app_client.get(f"{BASE}/recomputations", headers=huzhou,
                               params={"period": earlier}).json()["runs"] == outside, len(outside) > 0) == (
        1, True, True, True, True)


@pytest.mark.parametrize(("user_region", "region", "status", "needle"), [
    ("CN-ZJ-LS", "330500", 404, "outside what you may see"),  # Lishui's government asks for Huzhou
    ("CN-ZJ-HU", "330000", 404, "outside what you may see"),  # the province is wider than Huzhou
    ("CN-ZJ-HU", "330502", 422, "county"),  # a county has no sub-regions to colour
    ("CN-ZJ-HU", "990100", 404, "unknown region"),
])
def test_a_region_outside_the_callers_scope_or_without_sub_regions_is_refused_and_says_why(
        api_app_client: TestClient, admin_headers: dict[str, str], seeded: dict[str, int], user_region: str,
        region: str, status: int, needle: str) -> None:
    headers = make_user(api_app_client, admin_headers, "government", region=user_region)[2]
    r = api_app_client.get(f"{BASE}/distribution/regions", headers=headers, params={"region": region, "period": "2025"})
    assert (r.status_code, needle in r.json()["detail"]) == (status, True)


@pytest.mark.parametrize(("role", "status"), [("anonymous", 401), ("technician", 403), ("auditor", 403)])
def test_roles_without_the_view_permission_get_no_grade_map(api_app_client: TestClient,
                                                            role_headers: dict[str, dict[str, str]], role: str,
                                                            status: int) -> None:
    assert api_app_client.get(f"{BASE}/distribution/regions", headers=role_headers[role],
                              params={"region": "330500"}).status_code == status
