"""The 碳效码 pages in a real headless Chromium against the API under uvicorn: a government user reads the grade
distribution of its region by county and by industry, exports it and runs a computation whose progress it watches;
the steelworks' energy manager opens its carbon account, follows its code down to a meter's readings and issues a
certificate, which anyone verifies without logging in; the pages fit a 390 px phone. Screenshots:
tests/artifacts/web-efficiency-*.png."""

from __future__ import annotations

import csv
import io
from typing import Any

import httpx
import pytest

from tests.api.conftest import make_user
from tests.api.efficiency_seed import METER, STEEL, seed_prefecture
from tests.web.conftest import Users
from tests.web.ui import log_in, shot

Page = Any  # playwright.sync_api.Page; the module is imported only once Chromium is there
pytestmark = pytest.mark.timeout(900)  # the first test may wait for apt-get to install Chromium
BASE = "/api/v1/efficiency-code"


@pytest.fixture(scope="module")
def seeded(database_url: str, api_app_client: Any) -> dict[str, int]:
    return seed_prefecture(database_url)


@pytest.fixture(scope="module")
def steel_manager(api_app_client: Any, admin_headers: dict[str, str], seeded: dict[str, int]) -> tuple[str, str]:
    name, password, _ = make_user(api_app_client, admin_headers, "enterprise", enterprise_id="demo-steel")
    return name, password


def _bearer(http: httpx.Client, username: str, password: str) -> dict[str, str]:
    r = http.post("/api/v1/auth/login", json={"username": username, "password": password})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


def _fits(page: Page) -> bool:
    return bool(page.evaluate("document.scrollingElement.scrollWidth <= window.innerWidth + 1"))


def test_government_reads_its_regions_distribution_by_county_and_industry_and_exports_it(
        page: Page, live_api: str, http: httpx.Client, users: Users, seeded: dict[str, int]) -> None:
    log_in(page, live_api, *users.government)
    page.click("#nav a[data-route='efficiency']")
    page.wait_for_selector("#eff-spread[data-by='region'] tr[data-group]")
    page.wait_for_selector("#eff-spread-chart canvas")
    counties = page.eval_on_selector_all("#eff-spread tr[data-group]", "rows => rows.map(r => r.dataset.group)")
    api = http.get(f"{BASE}/distribution", headers=_bearer(http, *users.government), params={"by": "region"})
    assert api.status_code == 200, api.text
    api = api.json()
    shot(page, "efficiency-government")
    page.click("#eff-by label:has-text('By industry')")
    page.wait_for_selector("#eff-spread[data-by='industry'] tr[data-group='312']")
    with page.expect_download() as download:
        page.click("#eff-export-csv")
    with open(download.value.path(), encoding="utf-8-sig") as saved:
        rows = list(csv.DictReader(io.StringIO(saved.read())))
    assert (counties == [g["key"] for g in api["groups"]], {"330502", "330521", "330522"} <= set(counties),
            all(c.startswith("33") for c in counties), page.is_visible("#eff-synthetic"),
            STEEL.credit_code in {r["credit_code"] for r in rows},
            len(rows) == int(page.get_attribute("#eff-units", "data-value") or 0)) == (
        True, True, True, True, True, True)


def test_government_runs_a_computation_and_watches_its_progress_to_the_end(
        page: Page, live_api: str, users: Users, seeded: dict[str, int]) -> None:
    log_in(page, live_api, *users.government)
    page.click("#nav a[data-route='efficiency']")
    page.wait_for_selector("#eff-runs tr[data-run]")
    before = page.eval_on_selector_all("#eff-runs tr[data-run]", "rows => rows.map(r => Number(r.dataset.run))")
    page.click("#eff-compute")
    page.wait_for_selector("#eff-compute-years", state="visible")
    page.click(".el-switch:has(#eff-only-changed)")  # off: recompute even if nothing changed, so that a run is recorded
    page.click("#eff-compute-start")
    page.wait_for_selector("#eff-job[data-state='done']")
    shot(page, "efficiency-compute")
    done = (page.get_attribute("#eff-job", "data-progress"), page.get_attribute("#eff-job .el-progress", "aria-valuenow"))
    page.click(".el-dialog__footer button:has-text('Close')")
    page.wait_for_function(f"Math.max(...[...document.querySelectorAll('#eff-runs tr[data-run]')]"
                           f".map(r => Number(r.dataset.run))) > {max(before)}")
    assert done == ("100", "100")


def test_the_steelworks_account_traces_its_code_to_a_meters_readings_and_its_certificate_verifies_publicly(
        page: Page, browser: Any, live_api: str, http: httpx.Client, steel_manager: tuple[str, str],
        seeded: dict[str, int]) -> None:
    log_in(page, live_api, *steel_manager)
    page.click("#nav a[data-route='carbon-account']")
    page.wait_for_selector("#acct-code[data-code]:not([data-code=''])")
    account = http.get(f"{BASE}/units/{seeded[STEEL.credit_code]}/account",
                       headers=_bearer(http, *steel_manager)).json()
    page.wait_for_selector("#acct-history-chart canvas")
    shown = (page.get_attribute("#acct-code", "data-code"), page.inner_text("#acct-k"),
             page.is_visible(f"#acct-meters tr[data-meter='{METER['device_id']}/{METER['point']}']"),
             "fell back to group 312" in page.inner_text("#acct-fallback"))
    shot(page, "efficiency-account")
    with page.expect_download() as download:
        page.click("#acct-certificate")
    with open(download.value.path(), "rb") as saved:
        pdf = saved.read(5)
    verify_url = page.get_attribute("#acct-verify a", "href") or ""
    page.click(f"#acct-meters tr[data-meter='{METER['device_id']}/{METER['point']}'] a.acct-readings")
    page.wait_for_url(f"**/#/series?device={METER['device_id']}&point={METER['point']}**")

    stranger = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    try:
        public = stranger.new_page()
        public.goto(verify_url)
        public.wait_for_selector("#verify-card[data-state='valid']")
        verified = (public.inner_text("#verify-code"), public.inner_text("#verify-period"), _fits(public),
                    public.locator("#login").count(), "tCO" in public.inner_text("#verify-card"))
        shot(public, "efficiency-verify-390")
        public.goto(verify_url.rsplit("/", 1)[0] + "/" + "x" * 24)
        public.wait_for_selector("#verify-card[data-state='unknown']")
    finally:
        stranger.close()
    assert (shown, pdf, verified) == (
        (account["result"]["code"], f"{account['result']['efficiency']:.3f}", True, True), b"%PDF-",
        (account["result"]["code"], account["period"], True, 0, False))


def test_the_account_and_codes_pages_fit_a_390_px_phone(browser: Any, web_app: Any, live_api: str, users: Users,
                                                        steel_manager: tuple[str, str], seeded: dict[str, int]) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN", device_scale_factor=1)
    try:
        phone = context.new_page()
        log_in(phone, live_api, *steel_manager)
        phone.goto(live_api + "/#/carbon-account")
        phone.wait_for_selector("#acct-code[data-code]:not([data-code=''])")
        account_fits = _fits(phone)
        shot(phone, "efficiency-account-390")
        government = context.browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
        try:
            gov = government.new_page()
            log_in(gov, live_api, *users.government)
            gov.goto(live_api + "/#/efficiency")
            gov.wait_for_selector("#eff-spread tr[data-group]")
            codes_fits = _fits(gov)
            chinese = "碳效码" in gov.inner_text("h1")
            shot(gov, "efficiency-government-390")
        finally:
            government.close()
    finally:
        context.close()
    assert (account_fits, codes_fits, chinese) == (True, True, True)
