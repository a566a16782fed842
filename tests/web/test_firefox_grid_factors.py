"""The electricity-carbon factors page in a real headless Firefox (the driver of tests/web/test_firefox.py): a
government user picks an input set, switches the export convention and reads each region's factor, which must be
the API's. Screenshot: tests/artifacts/firefox-grid-factors.png."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.api.conftest import login
from tests.web.conftest import ARTIFACTS, Users
from tests.web.test_firefox import _in_firefox, firefox  # noqa: F401  # the fixture, shared

pytestmark = pytest.mark.timeout(900)


def test_grid_factors_in_firefox_show_the_apis_factors_under_the_chosen_convention(
        firefox: tuple[str, str], live_api: str, http: httpx.Client, users: Users) -> None:  # noqa: F811
    tag = uuid.uuid4().hex[:6]
    a, b = f"F{tag}A", f"F{tag}B"
    admin = login(http, *users.admin)
    created = http.post("/api/v1/grid-factors/regional/inputs", headers=admin, json={
        "name": f"firefox two regions {tag}", "period": "2025", "source": "test", "rows": [
            {"record": "region", "region": a, "mwh": 200, "tco2": 160},
            {"record": "region", "region": b, "mwh": 100, "tco2": 10},
            {"record": "flow", "region": a, "to_region": b, "mwh": 50}]})
    assert created.status_code == 201, created.text
    traced = http.post(f"/api/v1/grid-factors/regional/inputs/{created.json()['input_id']}/trace", headers=admin,
                       json={"convention": "generation"})
    assert traced.status_code == 201, traced.text
    result = http.get(f"/api/v1/grid-factors/regional/results/{traced.json()['result_id']}",
                      headers=login(http, *users.government)).json()
    expected = {f["region"]: f["intensity"] for f in result["factors"]}
    shot = ARTIFACTS / "firefox-grid-factors.png"
    shot.unlink(missing_ok=True)
    seen = _in_firefox(firefox, page="gridFactors", base=live_api, username=users.government[0],
                       password=users.government[1], screenshot=str(shot), inputId=created.json()["input_id"],
                       region=b, expected=expected[b])
    # B: 100 MWh own at 0.1 plus 50 MWh from A at 0.8 -> 50 t over 150 MWh
    assert (seen["factors"], seen["conserved"], seen["errors"]) == (pytest.approx(expected), "true", [])
    assert expected[b] == pytest.approx(50 / 150)
