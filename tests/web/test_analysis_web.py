"""The analysis and planning page (#/analysis) in a real headless Chromium against the API under uvicorn, as a
government user of the synthetic prefecture: decoupling steps and states, the LMDI effects that sum to the change,
and the peak forecast under two scenarios saved and compared side by side; each figure checked against the API.
Screenshots: tests/artifacts/web-analysis-*.png."""

from __future__ import annotations

import asyncio
import math
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from carbonflow.demo.region_seed import seed_region
from tests.api.conftest import login
from tests.web.conftest import Users
from tests.web.ui import log_in, shot

Page = Any  # playwright.sync_api.Page
pytestmark = pytest.mark.timeout(900)

PREFECTURE = "330500"  # the synthetic prefecture of `carbonflow seed region`


@pytest.fixture(scope="module")
def prefecture(database_url: str, live_api: str) -> str:
    # Playwright's sync API runs an event loop in this thread: seed from another one
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, seed_region(database_url)).result()
    return PREFECTURE


def test_government_user_reads_decoupling_and_a_decomposition_that_sums_to_the_change(
        page: Page, live_api: str, users: Users, prefecture: str, http: httpx.Client) -> None:
    headers = login(http, *users.government)
    log_in(page, live_api, *users.government)
    page.goto(f"{live_api}/#/analysis?region={prefecture}")
    page.wait_for_selector("#decoupling-table [data-state]")
    years = [y["year"] for y in http.get("/api/v1/analysis/decoupling", headers=headers, params={
        "region": prefecture, "start": 2000, "end": 2040}).json()["years"]]
    api = http.get("/api/v1/analysis/decoupling", headers=headers,
                   params={"region": prefecture, "start": years[0], "end": years[-1]}).json()
    shown = {page.get_attribute(f"#decoupling-table [data-step='{s['start']}-{s['end']}'] >> xpath=ancestor::tr//*[@data-state]",
                                "data-state") for s in api["steps"]}
    assert shown == {s["state"] or "" for s in api["steps"]}
    assert page.locator("#decoupling-table .el-table__body tr").count() == len(api["steps"]) + 1  # and the span
    assert page.locator("#analysis-synthetic").is_visible()
    shot(page, "analysis-decoupling-en")

    page.click("#tab-decomposition")
    page.wait_for_selector("#lmdi-change")
    lmdi = http.get("/api/v1/analysis/lmdi", headers=headers,
                    params={"region": prefecture, "base": years[-2], "target": years[-1]}).json()
    effects = {e: float(page.get_attribute(f"[data-effect='{e}']", "data-value"))
               for e in ("activity", "structure", "intensity", "emission_factor")}
    assert effects == pytest.approx(lmdi["effects"], rel=1e-12)
    change = float(page.get_attribute("#lmdi-change", "data-value"))
    assert (change, math.fsum(effects.values())) == (pytest.approx(lmdi["change"]), pytest.approx(change, rel=1e-9))
    assert page.locator("#lmdi-sectors .el-table__body tr").count() > 0
    shot(page, "analysis-decomposition-en")


def test_government_user_projects_saves_two_scenarios_and_compares_their_peaks(
        page: Page, live_api: str, users: Users, prefecture: str, http: httpx.Client) -> None:
    headers = login(http, *users.government)
    tag = uuid.uuid4().hex[:6]
    log_in(page, live_api, *users.government)
    page.goto(f"{live_api}/#/analysis?region={prefecture}&tab=forecast")
    page.wait_for_selector("#forecast-peak-year")
    base_year = max(y["year"] for y in http.get("/api/v1/analysis/decoupling", headers=headers, params={
        "region": prefecture, "start": 2000, "end": 2040}).json()["years"])
    for kind in ("policy", "enhanced"):
        page.click(f"#forecast-kind label:has(input[value='{kind}'])")
        api = http.post("/api/v1/analysis/forecast", headers=headers, params={"region": prefecture, "base_year": base_year},
                        json={"kind": kind, "model": "kaya", "end_year": max(2035, base_year + 10)}).json()
        page.wait_for_function("v => Number(document.querySelector('#forecast-peak-co2').dataset.value) === v",
                               arg=api["peak"]["co2"])
        assert page.get_attribute("#forecast-peak-year", "data-value") == str(api["peak"]["year"])
        assert page.locator("#forecast-suggestions li").count() == len(api["suggestions"])
        page.fill("#scenario-name", f"web {kind} {tag}")
        page.click("#scenario-save")
        page.wait_for_selector(f"#forecast-done:has-text('web {kind} {tag}')")
    shot(page, "analysis-forecast-en")
    saved = {s["name"]: s["scenario_id"] for s in http.get("/api/v1/analysis/scenarios", headers=headers,
                                                            params={"region": prefecture}).json()["scenarios"]}
    ids = [saved[f"web policy {tag}"], saved[f"web enhanced {tag}"]]
    for scenario_id in ids:
        page.click(f"#scenarios-table label:has([data-scenario='{scenario_id}']), #scenarios-table [data-scenario='{scenario_id}']")
    page.click("#scenarios-compare")
    page.wait_for_selector(f"#compare-peaks [data-peak='{ids[1]}']")
    compared = http.get("/api/v1/analysis/scenarios/compare", headers=headers,
                        params={"ids": ids, "base_year": base_year}).json()
    peaks = {s["scenario_id"]: s["peak"] for s in compared["scenarios"]}
    for scenario_id in ids:
        text = page.inner_text(f"#compare-peaks [data-peak='{scenario_id}']")
        assert text == (str(peaks[scenario_id]["year"]) if peaks[scenario_id]["reached"] else text)
    shot(page, "analysis-compare-en")
