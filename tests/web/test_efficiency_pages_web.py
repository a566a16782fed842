"""The 碳效码 pages in a real headless Chromium against the API under uvicorn: a government user reads the grade
distribution of its region by county and by industry and on the map (the monitoring map's component, coloured by
the share of grades 4-5 or the mean grade), chooses a rolling 12 months, computes it and reads its codes, exports
them and runs a computation whose progress it watches;
the steelworks' energy manager opens its carbon account, follows its code down to a meter's readings and issues a
certificate, which anyone verifies without logging in; the pages fit a 390 px phone. Screenshots:
tests/artifacts/web-efficiency-*.png."""

from __future__ import annotations

import csv
import io
from typing import Any

import httpx
import pytest

from tests.api.conftest import login, make_user
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


def _fits(page: Page) -> bool:
    return bool(page.evaluate("document.scrollingElement.scrollWidth <= window.innerWidth + 1"))


def test_government_reads_its_regions_distribution_by_county_and_industry_and_exports_it(
        page: Page, live_api: str, http: httpx.Client, users: Users, seeded: dict[str, int]) -> None:
    log_in(page, live_api, *users.government)
    page.click("#nav a[data-route='efficiency']")
    page.wait_for_selector("#eff-spread[data-by='region'] tr[data-group]")
    page.wait_for_selector("#eff-spread-chart canvas")
    counties = page.eval_on_selector_all("#eff-spread tr[data-group]", "rows => rows.map(r => r.dataset.group)")
    api = http.get(f"{BASE}/distribution", headers=login(http, *users.government), params={"by": "region"})
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


def _map_rows(page: Page) -> dict[str, tuple]:
    return {row["region"]: (row["counts"], row["mean"], row["worst"]) for row in page.eval_on_selector_all(
        "#eff-map-table tr[data-region]",
        """rows => rows.map(r => ({region: r.dataset.region,
            counts: Object.fromEntries([...r.querySelectorAll('td[data-grade]')].map(td => [td.dataset.grade,
                                                                                           Number(td.textContent)])),
            mean: r.querySelector('td[data-col=mean]').dataset.value,
            worst: r.querySelector('td[data-col=worst]').dataset.value}))""")}


def _api_rows(body: dict[str, Any]) -> dict[str, tuple]:
    return {g["key"]: ({k: v for k, v in g["counts"].items() if k != "total"}, g["mean_grade"], g["worst_share"])
            for g in body["groups"]}


def _same(shown: dict[str, tuple], api: dict[str, tuple]) -> bool:
    """The page's rows hold the API's counts, mean grades and worst shares (as the numbers they print)."""
    return shown.keys() == api.keys() and all(
        shown[k][0] == api[k][0] and (shown[k][1] == "" if api[k][1] is None else
                                      abs(float(shown[k][1]) - api[k][1]) < 1e-9 and
                                      abs(float(shown[k][2]) - api[k][2]) < 1e-9) for k in api)


def test_government_sees_its_prefectures_grade_distribution_on_the_map_as_the_api_gives_it(
        page: Page, live_api: str, http: httpx.Client, users: Users, seeded: dict[str, int]) -> None:
    log_in(page, live_api, *users.government)
    page.click("#nav a[data-route='efficiency']")
    page.wait_for_selector("#eff-spread tr[data-group]")
    page.click("#eff-by label:has-text('On the map')")
    page.wait_for_selector("#eff-map-holder[data-colour='worst'][data-region='330500'] canvas")
    page.wait_for_selector("#eff-map-table tr[data-region]")
    period = page.get_attribute("#eff-map-holder", "data-period")
    api = http.get(f"{BASE}/distribution/regions", headers=login(http, *users.government),
                   params={"region": "330500", "period": period})
    assert api.status_code == 200, api.text
    shown = _map_rows(page)
    shot(page, "efficiency-grade-map")
    page.click("#eff-map-colour button[data-value='mean']")
    page.wait_for_selector("#eff-map-holder[data-colour='mean'] canvas")
    shot(page, "efficiency-grade-map-mean")
    assert (_same(shown, _api_rows(api.json())), {"330502", "330521", "330522"} <= set(shown),
            page.get_attribute("#eff-map-provenance", "data-config") == api.json()["config_version"],
            page.is_visible("#eff-synthetic")) == (True, True, True, True)


def test_choosing_a_rolling_12_months_computes_it_and_shows_the_apis_rolling_codes_and_map(
        page: Page, live_api: str, http: httpx.Client, users: Users, seeded: dict[str, int]) -> None:
    rolling = "2024-06..2025-05"  # computed by no other test: the page first says it is not computed
    log_in(page, live_api, *users.government)
    page.click("#nav a[data-route='efficiency']")
    page.wait_for_selector("#eff-spread tr[data-group]")
    page.click("#eff-period-kind label:has-text('Rolling 12 months')")
    page.wait_for_selector("#eff-period-end")
    page.fill("#eff-period-end", "2025-05")
    page.press("#eff-period-end", "Enter")
    page.wait_for_selector(f"#eff-not-computed[data-period='{rolling}']")
    page.click("#eff-compute-period")
    page.wait_for_selector("#eff-compute-years", state="visible")
    offered = page.locator(f"#eff-compute-years label:has-text('{rolling}')").get_attribute("class") or ""
    page.click("#eff-compute-start")
    page.wait_for_selector("#eff-job[data-state='done']")
    page.click(".el-dialog__footer button:has-text('Close')")
    page.wait_for_selector("#eff-not-computed", state="detached")
    headers = login(http, *users.government)
    api = http.get(f"{BASE}/units", headers=headers, params={"period": rolling})
    assert api.status_code == 200, api.text
    units = api.json()["units"]
    page.wait_for_function("n => document.querySelector('#eff-coded').dataset.value === String(n)",
                           arg=sum(u["grade"] is not None for u in units))
    grades = {g: int(page.inner_text(f".eff-kpis [data-grade='{g}']")) for g in range(1, 6)}
    title = page.inner_text(".card-head h2:has-text('Codes of the units')")
    page.click("#eff-by label:has-text('On the map')")
    page.wait_for_selector(f"#eff-map-holder[data-period='{rolling}'] canvas")
    area = http.get(f"{BASE}/distribution/regions", headers=headers, params={"region": "330500", "period": rolling})
    shown = _map_rows(page)
    shot(page, "efficiency-rolling")
    assert ("is-checked" in offered, grades == {g: sum(u["grade"] == g for u in units) for g in range(1, 6)},
            "2024-06 to 2025-05 (rolling 12 months)" in title, _same(shown, _api_rows(area.json())),
            sum(u["grade"] is not None for u in units) > 100) == (True, True, True, True, True)


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
                       headers=login(http, *steel_manager)).json()
    page.wait_for_selector("#acct-history-chart canvas")
    shown = (page.get_attribute("#acct-code", "data-code"), page.inner_text("#acct-k"),
             page.is_visible(f"#acct-meters tr[data-meter='{METER['device_id']}/{METER['point']}']"),
             "fell back to group 312" in page.inner_text("#acct-fallback"))
    shot(page, "efficiency-account")
    periods = [h["period"] for h in account["history"]]
    page.evaluate("localStorage.setItem('carbonflow-lang', 'zh-CN')")
    page.reload()
    page.wait_for_selector(f"#acct-history tr[data-period='{periods[-1]}']")
    in_words = [page.inner_text(f"#acct-history tr[data-period='{p}'] td") for p in periods]
    assert periods and in_words == [  # the periods in words, not the API's labels
        f"{p} 年" if ".." not in p else "{} 至 {}（滚动 12 个月）".format(*p.split("..")) for p in periods]
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


def test_the_account_and_codes_pages_and_the_grade_map_fit_a_390_px_phone(browser: Any, web_app: Any, live_api: str, users: Users,
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
            gov.click("#eff-by label:has-text('地图')")
            gov.wait_for_selector("#eff-map-holder canvas")
            gov.wait_for_selector("#eff-map-table tr[data-region]")
            map_fits = _fits(gov)
            shot(gov, "efficiency-grade-map-390")
        finally:
            government.close()
    finally:
        context.close()
    assert (account_fits, codes_fits, chinese, map_fits) == (True, True, True, True)
