"""The electricity-carbon factors page (#/grid-factors) in a real headless Chromium against the API under uvicorn:
a government user reads the regional factors of both conventions and a region's CO2 simulated from electricity
next to the verified total, with the error;
an administrator imports an input set from a file (a bad line is named by its number), traces and publishes it,
fits the factor library, pins a unit and sees factors over the error bound. Figures on screen are checked
against the API's answers. Screenshots: tests/artifacts/web-grid-*.png."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api.conftest import login
from tests.web.conftest import Users
from tests.web.ui import choose, log_in, shot

Page = Any  # playwright.sync_api.Page
pytestmark = pytest.mark.timeout(900)  # the first browser test may wait for apt-get to install Chromium

TAG = uuid.uuid4().hex[:6]
REGION = f"CN-ZJ-W{TAG}"  # inside the government user's CN-ZJ
INDUSTRY = f"cement-{TAG}"
A, B, C = (f"W{TAG}{x}" for x in "ABC")


def _monthly(unit: str, mwh: list[float], fuels: tuple[float, float, float] | None) -> list[dict[str, Any]]:
    rows = []
    for month, q in enumerate(mwh, start=1):
        row: dict[str, Any] = {"unit_id": unit, "industry": INDUSTRY, "region": REGION, "period": f"2025-{month:02d}",
                               "electricity_mwh": q}
        if fuels:
            row |= {"coal_tco2": fuels[0] * q, "oil_tco2": fuels[1] * q, "gas_tco2": fuels[2] * q}
        rows.append(row)
    return rows


@pytest.fixture(scope="module")
def seeded(live_api: str, users: Users) -> dict[str, Any]:
    """Through the API as an administrator: a three-region input set traced under both conventions, and units of
    one industry in REGION (two with fuel data, one with electricity only) with verified figures, fuel models fitted."""
    with httpx.Client(base_url=live_api, timeout=30) as http:
        return _seed(http, login(http, *users.admin))


def _seed(http: httpx.Client, admin: dict[str, str]) -> dict[str, Any]:
    rows = [{"record": "region", "region": A, "mwh": 600, "tco2": 510},
            {"record": "region", "region": B, "mwh": 300, "tco2": 0},
            {"record": "region", "region": C, "mwh": 100, "tco2": 40},
            {"record": "flow", "region": A, "to_region": B, "mwh": 300},
            {"record": "flow", "region": B, "to_region": C, "mwh": 200}]
    r = http.post("/api/v1/grid-factors/regional/inputs", headers=admin,
                  json={"name": f"web three regions {TAG}", "period": "2025", "source": "test", "rows": rows})
    assert r.status_code == 201, r.text
    input_id = r.json()["input_id"]
    results = {}
    for convention in ("consumption", "generation"):
        traced = http.post(f"/api/v1/grid-factors/regional/inputs/{input_id}/trace", headers=admin,
                           json={"convention": convention})
        assert traced.status_code == 201, traced.text
        results[convention] = http.get(f"/api/v1/grid-factors/regional/results/{traced.json()['result_id']}",
                                       headers=admin).json()
    energy = (_monthly(f"f1-{TAG}", [100, 120, 90, 110], (0.5, 0.05, 0.05))
              + _monthly(f"f2-{TAG}", [200, 180, 210, 190], (0.58, 0.05, 0.0))
              + _monthly(f"e1-{TAG}", [50, 60, 55, 45], None))
    assert http.post("/api/v1/grid-factors/units/energy", headers=admin, json={"rows": energy}).status_code == 201
    verified = [{"unit_id": row["unit_id"], "period": row["period"], "verifier": "web test",
                 "verified_tco2": round(row["electricity_mwh"] * 0.62 * (1.08 if row["period"].endswith("3") else 1), 3)}
                for row in energy]
    assert http.post("/api/v1/grid-factors/verified", headers=admin, json={"rows": verified}).status_code == 201
    assert http.post("/api/v1/grid-factors/fuel-models/fit", headers=admin).status_code == 201
    return {"input_id": input_id, "results": results, "admin": admin}


def _factors_on_screen(page: Page) -> dict[str, float]:
    cells = page.locator("#grid-factors-table .el-table__body b[data-region]")
    return {cells.nth(i).get_attribute("data-region"): float(cells.nth(i).get_attribute("data-value"))
            for i in range(cells.count())}


def test_government_user_reads_regional_factors_under_both_conventions_and_a_simulated_region(
        page: Page, live_api: str, users: Users, seeded: dict[str, Any], http: httpx.Client) -> None:
    log_in(page, live_api, *users.government)
    page.goto(live_api + "/#/grid-factors")
    choose(page, "#grid-input", str(seeded["input_id"]))
    page.wait_for_selector(f"#grid-factors-table b[data-region='{A}']")
    for convention in ("consumption", "generation"):
        page.click(f"#grid-convention label:has(input[value='{convention}'])")
        expected = {f["region"]: f["intensity"] for f in seeded["results"][convention]["factors"]}
        page.wait_for_function(
            "([r, v]) => { const b = document.querySelector(`#grid-factors-table b[data-region='${r}']`);"
            " return b && Math.abs(Number(b.dataset.value) - v) < 1e-12; }", arg=[C, expected[C]])
        assert _factors_on_screen(page) == pytest.approx(expected, rel=1e-12)
        assert page.get_attribute("#grid-conservation", "data-conserved") == "true"
    assert page.locator("#grid-trace, #grid-retrace, #grid-publish, #grid-import").count() == 0  # no admin actions
    shot(page, "grid-regional-en")

    page.click("#tab-simulation")
    choose(page, "#sim-region", REGION)
    page.wait_for_selector("#sim-total")
    api = http.get("/api/v1/grid-factors/simulation", headers=login(http, *users.government),
                   params={"region": REGION}).json()
    page.wait_for_function("v => Math.abs(Number(document.querySelector('#sim-total').dataset.value) - v) < 1e-9",
                           arg=api["total_t"])
    assert float(page.get_attribute("#sim-share", "data-value")) == pytest.approx(api["simulated_share"])
    # every unit-month is verified (_seed): the reported total and the simulation's error against it are shown
    assert api["verified_units"] == api["unit_periods"] == 12 and api["error_vs_verified"] is not None
    assert api["error_vs_verified"] == pytest.approx((api["total_t"] - api["verified_t"]) / api["verified_t"])
    assert float(page.get_attribute("#sim-error", "data-value")) == pytest.approx(api["error_vs_verified"], rel=1e-12)
    sign = "+" if api["error_vs_verified"] >= 0 else "\u2212"
    assert page.inner_text("#sim-error").strip() == f"{sign}{abs(api['error_vs_verified']) * 100:,.1f}%"
    assert page.inner_text("#sim-verified").split()[0] == f"{api['verified_t']:,.0f}"
    assert page.locator("#sim-units .el-table__row").count() == 4  # e1's four months, simulated and marked estimated
    assert page.locator("#sim-units .el-table__row:first-child .badge").inner_text() == "estimated"
    shot(page, "grid-simulation-en")


def test_administrator_imports_traces_publishes_fits_pins_and_sees_factors_over_the_bound(
        page: Page, live_api: str, users: Users, seeded: dict[str, Any], tmp_path: Path, http: httpx.Client) -> None:
    log_in(page, live_api, *users.admin)
    page.goto(live_api + "/#/grid-factors")
    page.wait_for_selector("#grid-import")

    bad = tmp_path / "bad.csv"
    bad.write_text(f"record,region,to_region,mwh,tco2\nregion,X{TAG},,100,50\nflow,X{TAG},Y{TAG},-5,\n")
    page.click("#grid-import")
    page.set_input_files("#grid-import-file", str(bad))
    page.fill("#grid-import-name", f"web import {TAG}")
    page.click("#grid-import-submit")
    page.wait_for_selector("#grid-import-lines")
    assert page.locator("#grid-import-lines .el-table__row td").first.inner_text().strip() == "3"

    good = tmp_path / "good.csv"
    good.write_text(f"record,region,to_region,mwh,tco2\nregion,X{TAG},,100,50\nregion,Y{TAG},,50,0\n"
                    f"flow,X{TAG},Y{TAG},20,\n")
    page.set_input_files("#grid-import-file", str(good))
    page.click("#grid-import-submit")
    page.wait_for_selector("#grid-done")
    page.wait_for_selector("#grid-no-result")
    page.click("#grid-trace")
    page.wait_for_selector(f"#grid-factors-table b[data-region='Y{TAG}']")
    # X: 80 MWh kept at 0.5 t/MWh; Y: 50 own at 0 plus 20 at 0.5 -> 10 t over 70 MWh
    assert _factors_on_screen(page) == pytest.approx({f"X{TAG}": 0.5, f"Y{TAG}": 10 / 70})
    page.click("#grid-publish")
    page.wait_for_selector("#grid-done:has-text('published')")
    key = f"grid.y{TAG}.consumption"
    rows = http.get("/api/v1/factors", headers=seeded["admin"], params={"key": key}).json()["factors"]
    assert [row["value"] for row in rows] == [pytest.approx(10 / 70)]

    page.click("#tab-library")
    page.click("#library-scope label:has(input[value='unit'])")
    page.click("#library-fit")
    page.wait_for_selector("#library-done")
    page.fill("#library-search", f"f1-{TAG}")  # other tests' factors fill the first pages
    page.wait_for_selector(f"#library-table b[data-factor^='unit:f1-{TAG}@']")
    factor = page.get_attribute(f"#library-table b[data-factor^='unit:f1-{TAG}@']", "data-factor")
    page.click("#library-pin")
    page.fill("#pin-unit", f"f1-{TAG}")
    page.click(".el-select:has(#pin-factor) .el-select__wrapper")
    page.locator(f".el-select-dropdown__item:visible:has-text('{factor}')").click()
    page.fill("#pin-reason", "web test: keep this version")
    page.click("#pin-submit")
    page.wait_for_selector(f"#pins-table .el-table__row:has-text('f1-{TAG}')")
    shot(page, "grid-library-en")

    page.click("#tab-check")
    page.wait_for_selector("#check-summary")
    page.fill("#check-bound", "1")
    page.fill("#check-test-months", "1")  # four months a unit: one held out leaves three to refit two terms on
    page.click("#check-run")
    page.wait_for_selector(f"#check-table b[data-key='{INDUSTRY}']")
    report = http.get("/api/v1/grid-factors/check", headers=seeded["admin"],
                      params={"bound": 0.01, "holdout": "months", "test_months": 1}).json()
    ours = next(g for g in report["by_industry"] if g["key"] == INDUSTRY)
    assert page.get_attribute(f"#check-table b[data-key='{INDUSTRY}']", "data-flagged") == str(ours["flagged"]).lower()
    assert (page.get_attribute("#check-split", "data-holdout"),
            page.get_attribute("#check-split", "data-out-of-sample")) == ("months", "true")
    shot(page, "grid-check-en")
