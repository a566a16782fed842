"""The government monitoring pages in a real headless Chromium against the API under uvicorn, as a government user
of the province (CN-ZJ) over the synthetic prefecture (`carbonflow seed region`): drilling down region → county →
industry → unit → meter by clicking, switching the map between CO2 and intensity, filtering industries, dismissing
an anomaly reminder, the public institutions' page opened without signing in, the international comparison, and
the pages at 390 px. Figures are checked against the API. Screenshots: tests/artifacts/web-monitoring-*.png."""

from __future__ import annotations

from typing import Any

import httpx
import psycopg
import pytest

from api.monitoring import world
from carbon_domain.monitoring import credit_code_problem
from tests.api.conftest import login
from tests.web.conftest import MONITORING_YEAR, SITE, Users
from tests.web.ui import log_in, shot
from tests.web.waiting import wait_until

Page = Any  # playwright.sync_api.Page
pytestmark = pytest.mark.timeout(900)

YEAR = MONITORING_YEAR  # the year the prefecture fixture's steelworks reports


def _shot(page: Page, name: str) -> None:
    page.wait_for_timeout(700)  # the charts' entry animation (400 ms) has ended
    shot(page, name)


def _view(http: httpx.Client, headers: dict[str, str], **params: Any) -> dict[str, Any]:
    r = http.get("/api/v1/monitoring/view", headers=headers, params={"year": YEAR, "lang": "en", **params})
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def test_government_drills_down_from_the_province_to_a_units_live_meter(
        page: Page, live_api: str, http: httpx.Client, users: Users, prefecture: dict[str, Any]) -> None:
    headers = login(http, *users.government)
    log_in(page, live_api, *users.government)
    page.click("#nav a[data-route='monitoring-regions']")
    page.wait_for_selector("#mon-rows button.drill[data-row='330500']")
    province = _view(http, headers, region="330000")
    shown_co2 = float(page.get_attribute("#kpi-mon-co2", "data-value") or "nan")
    synthetic_note = page.locator(".synthetic-note").count()
    _shot(page, "monitoring-province")

    page.click("#mon-rows button.drill[data-row='330500']")
    page.wait_for_selector("#mon-rows button.drill[data-row='330522']")
    page.click("#mon-rows button.drill[data-row='330522']")
    page.wait_for_selector("#mon-rows button.drill[data-row='31']")
    crumbs = page.locator("#mon-crumbs button").all_inner_texts()
    page.click("#mon-rows button.drill[data-row='31']")
    unit = str(prefecture["unit_id"])
    page.wait_for_selector(f"#mon-rows button.drill[data-row='{unit}']")
    ranking = _view(http, headers, region="330522", by="unit", industry="31")
    first_row = page.get_attribute("#mon-rows .el-table__row:first-child button.drill", "data-row")
    _shot(page, "monitoring-ranking")

    page.click(f"#mon-rows button.drill[data-row='{unit}']")
    page.wait_for_selector("#unit-archive #unit-credit")
    page.wait_for_selector(f"[data-site='{SITE}'] a.meter-link[data-point='energy_import_kwh']")
    archive = http.get(f"/api/v1/monitoring/units/{unit}", headers=headers, params={"year": YEAR}).json()
    facts = (page.inner_text("#unit-credit"), float(page.get_attribute("#unit-co2", "data-value") or "nan"),
             page.get_attribute(f"[data-site='{SITE}']", "data-live"))
    _shot(page, "monitoring-unit-archive")
    page.click("[data-meter='w-elec-main'] a.meter-link[data-point='energy_import_kwh']")
    page.wait_for_url("**/#/series?**")
    page.wait_for_selector("#series-status[data-kind]")

    assert (shown_co2, synthetic_note, crumbs, first_row, facts, "device=w-elec-main" in page.url,
            "point=energy_import_kwh" in page.url) == (
        pytest.approx(province["total"]["tco2"]), 1, ["Zhejiang", "Huzhou", "Changxing"], ranking["rows"][0]["key"],
        (prefecture["credit_code"], pytest.approx(archive["total"]["tco2"]), "yes"), True, True)


def test_map_switches_from_co2_to_intensity_colouring(page: Page, live_api: str, http: httpx.Client, users: Users,
                                                      prefecture: dict[str, Any]) -> None:
    headers = login(http, *users.government)
    log_in(page, live_api, *users.government)
    page.click("#nav a[data-route='monitoring-map']")
    page.wait_for_selector("#map-holder[data-metric='co2'] canvas")
    counties = _view(http, headers, region="330500")["rows"]
    def read() -> dict[str, float | None]:  # a county without value added has no intensity ("")
        cells = {tr.get_attribute("data-region"): tr.locator("td.num").first.get_attribute("data-value")
                 for tr in page.locator("#map-table tbody tr[data-region]").all()}
        return {key: float(raw) if raw else None for key, raw in cells.items()}

    co2 = read()
    schematic = page.locator(".synthetic-note").inner_text()
    _shot(page, "monitoring-map-co2")
    page.click("#map-metric button[data-value='intensity']")
    page.wait_for_selector("#map-holder[data-metric='intensity'] canvas")
    intensity = read()
    _shot(page, "monitoring-map-intensity")
    assert (co2, intensity, "schematic" in schematic) == (
        {r["key"]: pytest.approx(r["tco2"]) for r in counties},
        {r["key"]: None if r["intensity_tco2_per_1e4_cny"] is None else pytest.approx(r["intensity_tco2_per_1e4_cny"])
         for r in counties}, True)


def test_industry_page_flags_high_energy_industries_and_filters_to_them(
        page: Page, live_api: str, http: httpx.Client, users: Users, prefecture: dict[str, Any]) -> None:
    log_in(page, live_api, *users.government)
    page.click("#nav a[data-route='monitoring-industries']")
    page.wait_for_selector("#ind-rows button.drill[data-row='31']")
    page.click(".el-checkbox:has(#ind-high)")
    page.wait_for_function("() => document.querySelectorAll('#ind-rows .el-table__row').length > 0 && "
                           "[...document.querySelectorAll('#ind-rows .el-table__row')].every("
                           "tr => tr.querySelector('[data-high-energy]'))")
    flags = page.locator("#ind-rows [data-high-energy]").evaluate_all("els => els.map(e => e.dataset.highEnergy)")
    page.click("#ind-rows button.drill[data-row='31']")
    page.wait_for_selector(f"#ind-units [data-unit='{prefecture['unit_id']}']")
    _shot(page, "monitoring-industries")
    assert ("steel" in flags, set(flags) <= {"power", "petrochemicals", "chemicals", "building_materials", "steel",
                                             "non_ferrous", "paper", "aviation"}) == (True, True)


def test_reviewer_checks_the_region_and_dismisses_a_reminder_with_a_comment(
        page: Page, live_api: str, http: httpx.Client, users: Users, prefecture: dict[str, Any],
        database_url: str) -> None:
    headers = login(http, *users.government)
    log_in(page, live_api, *users.government)
    page.click("#nav a[data-route='monitoring-anomalies']")
    page.wait_for_selector("#anomalies-table")
    page.click("#anomaly-scan")
    page.wait_for_selector("#anomalies-done")
    page.wait_for_selector("#anomalies-table button.dismiss")
    anomaly = page.get_attribute("#anomalies-table .el-table__row:first-child [data-anomaly]", "data-anomaly")
    page.click("#anomalies-table .el-table__row:first-child button.dismiss")
    page.fill("#anomaly-comment", "checked with the unit: a new furnace started that month")
    page.click("#anomaly-submit")
    page.wait_for_selector("#anomalies-done:has-text('dismissed')")
    _shot(page, "monitoring-anomalies")
    decided = wait_until(lambda: next((a for a in http.get("/api/v1/monitoring/anomalies", headers=headers,
                                                                params={"state": "dismissed", "limit": 5000}).json()[
        "anomalies"] if str(a["anomaly_id"]) == anomaly), None), "the dismissed reminder")
    with psycopg.connect(database_url) as conn:
        audited = conn.execute("SELECT actor FROM audit_log WHERE action = 'monitoring.anomaly.dismissed'"
                               " AND target = %s", (f"monitoring_anomaly:{anomaly}",)).fetchone()
    assert (decided["decided_by"], decided["comment"], audited, page.locator(f"[data-anomaly='{anomaly}']").count(),
            page.locator(".synthetic-note").count()) == (
        users.government[0], "checked with the unit: a new furnace started that month", (users.government[0],), 0, 1)


def test_public_institutions_page_opens_without_signing_in(page: Page, live_api: str, http: httpx.Client,
                                                           prefecture: dict[str, Any]) -> None:
    page.goto(live_api + "/#/public/institutions")
    page.wait_for_selector("#public-frame #pub-table .el-table__row")
    expected = http.get("/api/v1/monitoring/public/institutions", params={"year": YEAR}).json()
    count = page.get_attribute("#pub-count", "data-value")
    reduction = float(page.get_attribute("#pub-reduction", "data-value") or "nan")
    _shot(page, "monitoring-public")
    assert (page.locator("#login").count(), page.locator("#shell").count(), count, reduction,
            page.locator(".synthetic-note").count()) == (
        0, 0, str(expected["totals"]["institutions"]), pytest.approx(expected["totals"]["reduction_tco2"]), 1)


def test_public_page_visitor_can_sign_in_from_it(page: Page, live_api: str, users: Users,
                                                 prefecture: dict[str, Any]) -> None:
    page.goto(live_api + "/#/public/institutions")
    page.click("#public-sign-in")
    page.fill("#login-username", users.government[0])
    page.fill("#login-password", users.government[1])
    page.click("#login button[type=submit]")
    page.wait_for_selector("#shell #pub-table")
    assert page.url.endswith("#/public/institutions")


def test_institutions_monitoring_shows_which_are_published(page: Page, live_api: str, http: httpx.Client,
                                                            users: Users, prefecture: dict[str, Any]) -> None:
    headers = login(http, *users.government)
    log_in(page, live_api, *users.government)
    page.click("#nav a[data-route='monitoring-institutions']")
    page.wait_for_selector("#inst-table .el-table__row")
    expected = http.get("/api/v1/monitoring/institutions", headers=headers, params={"year": YEAR,
                                                                                   "region": "330000"}).json()
    _shot(page, "monitoring-institutions")
    assert (page.get_attribute("#inst-count", "data-value"), page.locator("#inst-table [data-public]").count() > 0) == (
        str(expected["totals"]["institutions"]), True)


def test_world_comparison_lists_the_main_emitters_of_the_latest_year(page: Page, live_api: str, http: httpx.Client,
                                                                     users: Users, monkeypatch: pytest.MonkeyPatch) -> None:
    if not world.data_path().exists():  # a worktree beside no ../shared: the machine's copy, read in place
        monkeypatch.setenv("CARBONFLOW_WORLD_CO2_CSV", "/work/shared/data/world_co2.csv")
    headers = login(http, *users.government)
    log_in(page, live_api, *users.government)
    page.click("#nav a[data-route='monitoring-world']")
    page.wait_for_selector("#chart-world-co2 canvas")
    page.click("#world-span button[data-value='10']")
    page.wait_for_selector("#world-span button.on[data-value='10']")
    top = http.get("/api/v1/monitoring/world", headers=headers, params={"top": 20}).json()["top"]
    listed = page.locator("#world-table tbody tr").evaluate_all("rows => rows.map(r => r.dataset.country)")
    _shot(page, "monitoring-world")
    assert listed == [c["iso_code"] for c in top]


def test_monitoring_pages_fit_a_390_px_phone_in_chinese(browser: object, web_app: object, live_api: str,
                                                        users: Users, prefecture: dict[str, Any]) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")  # type: ignore[attr-defined]
    context.set_default_timeout(15_000)
    phone = context.new_page()
    try:
        log_in(phone, live_api, *users.government)
        widths = {}
        for route, ready in (("monitoring/regions", "#mon-rows button.drill"), ("monitoring/map", "#map-holder canvas"),
                             ("monitoring/units", "#units-table .el-table__row"),
                             ("monitoring/anomalies", "#anomalies-table")):
            phone.goto(f"{live_api}/#/{route}")
            phone.wait_for_selector(ready)
            widths[route] = phone.evaluate("document.documentElement.scrollWidth")
            _shot(phone, f"monitoring-390-{route.split('/')[1]}")
        text = phone.inner_text("#view")
    finally:
        context.close()
    assert (widths, "monitoring." in text) == ({route: 390 for route in widths}, False)


def test_enterprise_user_sees_only_its_own_units_in_region_monitoring(page: Page, live_api: str, users: Users,
                                                                      prefecture: dict[str, Any],
                                                                      database_url: str) -> None:
    log_in(page, live_api, *users.manager)  # the energy manager of w-ent, which the Chromium steelworks unit is
    page.click("#nav a[data-route='monitoring-regions']")
    page.wait_for_selector(f"#mon-rows button.drill[data-row='{prefecture['unit_id']}']")
    rows = page.locator("#mon-rows button.drill").evaluate_all("els => els.map(e => e.dataset.row)")
    _shot(page, "monitoring-enterprise")
    with psycopg.connect(database_url) as conn:  # w-ent's units in that county (other tests may register more)
        own = {str(r[0]) for r in conn.execute("SELECT unit_id FROM monitoring_units WHERE enterprise_id = 'w-ent'"
                                               " AND region_code = '330522'")}
    assert (set(rows) <= own, str(prefecture["unit_id"]) in rows, page.locator(".synthetic-note").count(),
            "region=330522" in page.url, "by=unit" in page.url) == (True, True, 0, True, True)


ESTIMATED_YEAR = 2032  # a year only this test reports in


def _seed_estimated(http: httpx.Client, admin_headers: dict[str, str]) -> dict[str, Any]:
    """Two steel units of Changxing in ESTIMATED_YEAR, one reporting coal and electricity, one electricity only;
    the fuel model fitted on them and estimated into monitoring: {electric unit id, model id}."""
    chars = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    codes = []
    for n in range(2):
        body = f"9133052200000{n}" + "".join(chars[(ESTIMATED_YEAR * 7 + n * 13 + i) % len(chars)] for i in range(3))
        codes.append(next(body + c for c in chars if credit_code_problem(body + c) is None))
    full, electric = codes
    lines = ["credit_code,unit_name,region_code,industry_code,month,item,quantity,unit"]
    for month in range(1, 13):
        lines += [f"{full},Reported Fuel Works,330522,312,{ESTIMATED_YEAR}-{month:02d},coal,200,t",
                  f"{full},Reported Fuel Works,330522,312,{ESTIMATED_YEAR}-{month:02d},electricity,2000,MWh",
                  f"{electric},Electricity Only Works,330522,312,{ESTIMATED_YEAR}-{month:02d},electricity,800,MWh"]
    r = http.post("/api/v1/monitoring/imports", headers=admin_headers,
                  files={"file": ("estimated.csv", "\n".join(lines).encode(), "text/csv")})
    assert r.status_code == 200, r.text
    since = {"since": f"{ESTIMATED_YEAR}-01"}
    assert http.post("/api/v1/grid-factors/units/from-monitoring", headers=admin_headers, json=since).status_code == 201
    fitted = http.post("/api/v1/grid-factors/fuel-models/fit", headers=admin_headers)
    assert fitted.status_code == 201, fitted.text
    run = http.post("/api/v1/grid-factors/simulation/to-monitoring", headers=admin_headers, json=since)
    assert run.status_code == 201, run.text
    units = http.get("/api/v1/monitoring/units", headers=admin_headers, params={"region": "330522"}).json()["units"]
    return {"electric": next(u["unit_id"] for u in units if u["credit_code"] == electric),
            "model_id": run.json()["models"]["312"]}


def test_estimated_co2_is_shown_apart_from_the_reported_with_its_badge_and_model(
        page: Page, live_api: str, http: httpx.Client, users: Users, admin_headers: dict[str, str],
        prefecture: dict[str, Any]) -> None:
    seeded = _seed_estimated(http, admin_headers)
    headers = login(http, *users.government)
    log_in(page, live_api, *users.government)
    page.goto(f"{live_api}/#/monitoring/regions?region=330522&year={ESTIMATED_YEAR}&by=industry")
    page.wait_for_selector("#kpi-mon-estimated")
    page.wait_for_selector("#mon-rows [data-estimated-co2='31']")
    view = _view(http, headers, region="330522", by="industry", year=ESTIMATED_YEAR)
    steel = next(r for r in view["rows"] if r["key"] == "31")
    shown = {"reported": float(page.get_attribute("#kpi-mon-co2", "data-value") or "nan"),
             "estimated": float(page.get_attribute("#kpi-mon-estimated", "data-value") or "nan"),
             "row_reported": float(page.get_attribute("#mon-rows [data-co2='31']", "data-value") or "nan"),
             "row_estimated": float(page.get_attribute("#mon-rows [data-estimated-co2='31']", "data-value") or "nan")}
    badge = page.locator("#kpi-mon-estimated-card .estimated-badge")
    badge_text, badge_title = badge.inner_text(), badge.get_attribute("title") or ""
    note = page.locator("#mon-estimated-note").count()
    _shot(page, "monitoring-estimated-region")

    page.goto(f"{live_api}/#/monitoring/units?unit={seeded['electric']}&year={ESTIMATED_YEAR}")
    page.wait_for_selector("#unit-estimated")
    archive = http.get(f"/api/v1/monitoring/units/{seeded['electric']}", headers=headers,
                       params={"year": ESTIMATED_YEAR}).json()
    unit_shown = (float(page.get_attribute("#unit-co2", "data-value") or "nan"),
                  float(page.get_attribute("#unit-estimated", "data-value") or "nan"),
                  page.get_attribute("#unit-estimated-card .estimated-badge", "data-models"))
    _shot(page, "monitoring-estimated-unit")

    assert view["total"]["estimated_tco2"] > 0 and steel["estimated_tco2"] > 0
    assert shown == {"reported": pytest.approx(view["total"]["tco2"]),
                     "estimated": pytest.approx(view["total"]["estimated_tco2"]),
                     "row_reported": pytest.approx(steel["tco2"]), "row_estimated": pytest.approx(steel["estimated_tco2"])}
    assert shown["reported"] != pytest.approx(view["total"]["with_estimated_tco2"])  # not mixed into the reported
    assert (badge_text.strip(), seeded["model_id"] in badge_title, note) == ("estimated", True, 1)
    assert unit_shown == (pytest.approx(archive["total"]["tco2"]), pytest.approx(archive["total"]["estimated_tco2"]),
                          seeded["model_id"])
