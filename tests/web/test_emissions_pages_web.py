"""The emissions page and the factor library in a real headless Chromium against the API under uvicorn, as the roles
that use them: an energy manager clicks a day's bar and follows the figure to its factor rows and formula, then to
one hour's intervals and meter readings; a government reviewer opens a figure from the table; an administrator
publishes a new factor version and an auditor sees who published it. Screenshots: tests/artifacts/web-emissions-*.png
and web-factors-*.png."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.api.conftest import login, unique
from tests.web.conftest import GRID, SITE, Users
from tests.web.ui import log_in, open_from_drawer, shot, value

Page = Any  # playwright.sync_api.Page; the module is imported only once Chromium is there
pytestmark = pytest.mark.timeout(900)  # the first test may wait for apt-get to install Chromium


def _open_emissions(page: Page) -> None:
    page.click("#nav a[data-route='emissions']")
    page.wait_for_selector("#chart-buckets canvas")
    page.wait_for_selector("#emissions-table [data-source]")


def _click_last_bar(page: Page) -> None:
    """Click the bottom segment of the newest bucket's bar (the plant's readings are of the last three hours)."""
    box = page.locator("#chart-buckets").bounding_box()
    buckets = 7  # the page opens on the last seven days, today last
    left, right, bottom = 56, 12, 28  # the bar chart's grid (EmissionsView.vue)
    x = box["x"] + left + (box["width"] - left - right) * (buckets - 0.5) / buckets
    page.mouse.click(x, box["y"] + box["height"] - bottom - 4)


def test_manager_clicks_a_days_bar_and_follows_it_to_factor_rows_and_an_hours_readings(
    page: Page, live_api: str, http: httpx.Client, users: Users
) -> None:
    log_in(page, live_api, *users.manager)
    _open_emissions(page)
    total = value(page, "#emissions-total")
    sources = page.locator("#emissions-by-source tbody tr[data-source]").evaluate_all(
        "rows => rows.map(r => r.dataset.source)")
    shot(page, "emissions")
    _click_last_bar(page)
    page.wait_for_selector("#provenance-factors [data-factor]")
    source = page.get_attribute("#provenance-figure", "data-source")
    factors = page.locator("#provenance-factors [data-factor]").evaluate_all("els => els.map(e => e.dataset.factor)")
    figure = value(page, "#provenance-tco2")
    shot(page, "emissions-provenance")
    page.locator("#provenance-hours .open-hour").last.click()
    page.wait_for_selector("#provenance-intervals [data-interval]")
    page.wait_for_selector("#provenance-hour .readings [data-reading]")
    intervals = page.locator("#provenance-intervals [data-interval]").count()
    matching = page.locator("#provenance-intervals .recomputed[data-matches='yes']").count()
    readings = page.locator("#provenance-hour .readings [data-reading]").count()
    hour = page.get_attribute("#provenance-hour", "data-hour")
    shot(page, "emissions-hour")

    headers = login(http, *users.manager)
    breakdown = http.get("/api/v1/emissions/breakdown", headers=headers, params={
        "site": SITE, "start": page.evaluate("() => new Date(Date.now() - 7 * 86400000).toISOString()"),
        "end": page.evaluate("() => new Date(Date.now() + 86400000).toISOString()")}).json()
    one_hour = http.get("/api/v1/emissions/provenance/hour", headers=headers,
                        params={"site": SITE, "source": source, "hour": hour}).json()
    assert sources == [s["source"] for s in breakdown["by_source"]] and set(sources) == {"electricity", "natural_gas"}
    assert total == pytest.approx(breakdown["total_tco2"])
    assert figure is not None and figure > 0
    assert (source == "electricity") == (factors == [GRID])
    assert (intervals, matching) == (len(one_hour["intervals"]), len(one_hour["intervals"])) and intervals > 0
    assert readings == sum(len(m["readings"]) for m in one_hour["meters"]) and readings > intervals


def test_government_reviewer_opens_a_figure_from_the_table_and_comes_back_from_an_hour(
    page: Page, live_api: str, users: Users
) -> None:
    log_in(page, live_api, *users.government)
    page.goto(live_api + f"/#/emissions?site={SITE}")  # the region has other sites: this one by its address
    page.wait_for_selector("#emissions-table [data-source='natural_gas']")
    days = value(page, "#emissions-total")
    page.click("#emissions-interval button[data-interval='month']")
    page.wait_for_function("() => { const cells = [...document.querySelectorAll('#emissions-table [data-period]')];"
                           " return cells.length > 0 && cells.every(el => /^\\d{4}-\\d{2}$/.test(el.dataset.period)); }")
    months = value(page, "#emissions-total")
    page.click("#emissions-table .el-table__row:has([data-source='natural_gas']) button.trace")
    page.wait_for_selector("#provenance-figure[data-source='natural_gas']")
    formulas = page.locator("#provenance-formulas [data-formula]").count()
    factors = sorted(page.locator("#provenance-factors [data-factor]").evaluate_all("els => els.map(e => e.dataset.factor)"))
    page.locator("#provenance-hours .el-table__row").first.click()
    page.wait_for_selector("#provenance-intervals [data-interval]")
    page.click("#provenance-back")
    page.wait_for_selector("#provenance-figure")
    shot(page, "emissions-government")
    assert formulas >= 1 and months == pytest.approx(days)
    assert factors == ["fuel.natural_gas.cc@ndrc-steel-2013", "fuel.natural_gas.ncv@ndrc-steel-2013",
                       "fuel.natural_gas.of@ndrc-steel-2013"]


def test_administrator_publishes_a_new_factor_version_and_the_auditor_sees_who_and_when(
    page: Page, live_api: str, http: httpx.Client, users: Users
) -> None:
    key = f"heat.web_{unique('f').replace('-', '_')}"
    r = http.post("/api/v1/factors", headers=login(http, *users.admin), json={
        "factor_id": f"{key}@2025", "key": key, "value": 0.11, "unit": "tCO2/GJ", "scope": "national",
        "scope_id": "cn", "valid_from": "2025-01-01", "series": "web-test", "source": "first publication"})
    assert r.status_code == 201, r.text
    log_in(page, live_api, *users.admin)
    page.goto(live_api + f"/#/factors?key={key}")
    page.wait_for_selector(f"#factor-table [data-factor='{key}@2025']")
    page.click(f"#factor-table .el-table__row:has([data-factor='{key}@2025']) button.new-version")
    page.fill("#factor-source", "")
    page.click("#factor-publish")
    page.wait_for_selector(".el-form-item.is-error")  # the source is required
    page.fill("#factor-value", "0.125")
    page.fill("#factor-source", "corrected table, p. 12")
    page.click("#factor-publish")
    page.wait_for_selector("#factor-published")
    page.wait_for_selector(f"#factor-table .el-table__row:has([data-factor='{key}@2025']) [data-status='superseded']")
    shot(page, "factors-published")
    admin_name = users.admin[0]

    page.evaluate("() => sessionStorage.clear()")  # the administrator's session ends with the tab's storage
    log_in(page, live_api, *users.auditor)
    page.goto(live_api + f"/#/factors?key={key}")
    page.wait_for_selector(f"#factor-changes [data-change='{key}@2025.v2']")
    new_row = page.inner_text(f"#factor-table .el-table__row:has([data-factor='{key}@2025.v2'])")
    change = page.inner_text(f"#factor-changes .el-table__row:has([data-change='{key}@2025.v2'])")
    buttons = page.locator("#factor-table button.new-version").count()
    shot(page, "factors-auditor")
    assert ("0.125" in new_row, f"by {admin_name}" in new_row, "Current" in new_row) == (True, True, True)
    assert (admin_name in change, "Published a version" in change, buttons) == (True, True, 0)


@pytest.mark.parametrize("route, ready", [("emissions", "#emissions-table [data-source]"),
                                          ("factors", "#factor-table [data-factor]")])
def test_emissions_pages_fit_a_phones_width(browser: object, web_app: object, live_api: str, users: Users, route: str,
                                            ready: str) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN",  # type: ignore[attr-defined]
                                  timezone_id="Asia/Shanghai")
    try:
        page = context.new_page()
        log_in(page, live_api, *users.manager)
        page.wait_for_selector("#nav a.active", state="attached")
        open_from_drawer(page, route, ready)
        widths = {route: page.evaluate("() => document.documentElement.scrollWidth")}
        shot(page, f"phone-{route}")
        if route == "emissions":  # the provenance dialog fits too, its wide tables scroll inside it
            page.click("#emissions-table .el-table__row:has([data-source='electricity']) button.trace")
            page.wait_for_selector("#provenance-factors [data-factor]")
            box = page.locator(".provenance-dialog").bounding_box()
            widths["dialog"] = round(box["x"] + box["width"]) if box and box["x"] >= 0 else None
            widths["page with dialog"] = page.evaluate("() => document.documentElement.scrollWidth")
            shot(page, "phone-emissions-provenance")
        assert all(w is not None and w <= 390 for w in widths.values()), widths
    finally:
        context.close()
