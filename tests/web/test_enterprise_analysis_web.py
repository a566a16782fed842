"""The enterprise analysis page (#/enterprise-analysis) in a real headless Chromium against the API under uvicorn,
as the plant's energy manager: the by-process decomposition whose effects sum to the change, and the forecast
recalculated with a custom output growth, its drivers ranked and its suggestions; each figure checked against the
API. Screenshots:
tests/artifacts/web-enterprise-analysis-*.png.

History: the plant's three seeded hours copied 2, 3 and 14 months back (months the comparison panel's test does
not write), with the energy content the stream job stores, scaled per activity so that the effects differ."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import psycopg
import pytest

from tests.api.conftest import login
from tests.web.conftest import SITE, TZ, Users
from tests.web.ui import log_in, shot

Page = Any  # playwright.sync_api.Page
pytestmark = pytest.mark.timeout(900)
ZONE = ZoneInfo(TZ)
SEQ = 20_000_000  # the copies' sequence numbers start here (the comparison panel's seeds use 9,000,000)
GAS_KWH_PER_1E4NM3 = 389.31 / 0.0036  # the NCV of the plant's gas factor row, GJ per 10^4 Nm3, in kWh
# months back -> scale of (electricity, natural gas, production)
COPIES = {2: (1.0, 1.0, 1.0), 3: (0.95, 1.05, 1.0), 14: (1.2, 1.0, 0.9)}
EFFECTS = ("production", "structure", "intensity", "emission_factor")


def _month(now: datetime, back: int) -> str:
    y, m0 = divmod(now.year * 12 + now.month - 1 - back, 12)
    return f"{y}-{m0 + 1:02d}"


@pytest.fixture(scope="module")
def history(database_url: str, plant: str) -> dict[str, str]:
    """The base and target months of the decomposition, after the copies are written."""
    now = datetime.now(ZONE)
    with psycopg.connect(database_url, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM emissions WHERE seq >= %s AND site_id = %s", (SEQ, SITE)).fetchone():
            for back, (elec, gas, made) in COPIES.items():
                shift = f"{back} months"
                conn.execute(
                    "INSERT INTO emissions (gateway_key, seq, ts, start_ts, point_key, site_id, activity, quantity,"
                    " quantity_unit, tco2, factor_ids, formula, quality, energy_kwh)"
                    " SELECT gateway_key, seq + %(seq)s, ts - %(shift)s::interval, start_ts - %(shift)s::interval,"
                    " point_key, site_id, activity, quantity * s.f, quantity_unit, tco2 * s.f, factor_ids, formula,"
                    " quality, quantity * s.f * CASE WHEN activity = 'electricity' THEN 1000 ELSE %(gas)s END"
                    " FROM emissions JOIN (VALUES ('electricity', %(elec)s::float8), ('natural_gas', %(ng)s::float8))"
                    " AS s(a, f) ON s.a = activity WHERE site_id = %(site)s AND seq < 9000000",
                    {"seq": SEQ * back, "shift": shift, "gas": GAS_KWH_PER_1E4NM3, "elec": elec, "ng": gas,
                     "site": SITE})
                conn.execute(
                    "INSERT INTO activity_intervals (gateway_key, seq, ts, start_ts, point_key, site_id, activity,"
                    " quantity, quantity_unit, quality) SELECT gateway_key, seq + %(seq)s, ts - %(shift)s::interval,"
                    " start_ts - %(shift)s::interval, point_key, site_id, activity, quantity * %(made)s, quantity_unit,"
                    " quality FROM activity_intervals WHERE site_id = %(site)s AND seq < 9000000",
                    {"seq": SEQ * back, "shift": shift, "made": made, "site": SITE})
            lo, hi = conn.execute("SELECT min(start_ts), max(ts) FROM emissions WHERE site_id = %s AND seq >= %s",
                                  (SITE, SEQ)).fetchone()  # type: ignore[misc]
            # written around the stream job: its scope rollups, rebuilt as `carbonflow recompute` does
            conn.execute("SELECT cf_rebuild_scope_rollups(%s, %s, %s)", (SITE, lo, hi))
    return {"base": _month(now, 14), "target": _month(now, 2)}


def test_energy_manager_reads_the_process_decomposition_and_recalculates_the_forecast(
        page: Page, live_api: str, users: Users, history: dict[str, str], http: httpx.Client) -> None:
    headers = login(http, *users.manager)
    log_in(page, live_api, *users.manager)
    page.goto(f"{live_api}/#/enterprise-analysis?site={SITE}&base={history['base']}&target={history['target']}")
    page.wait_for_selector("#ea-change")
    api = http.get("/api/v1/analysis/enterprise/lmdi", headers=headers,
                   params={"site": SITE, "base": history["base"], "target": history["target"], "tz": TZ})
    assert api.status_code == 200, api.text
    lmdi = api.json()
    effects = {e: float(page.get_attribute(f"[data-effect='{e}']", "data-value")) for e in EFFECTS}
    change = float(page.get_attribute("#ea-change", "data-value"))
    assert effects == pytest.approx(lmdi["effects"], rel=1e-12)
    assert (change, math.fsum(effects.values())) == (pytest.approx(lmdi["change_t"]), pytest.approx(change, rel=1e-9))
    # the base month's copy used more electricity per tonne of steel: the intensity effect is a fall
    assert effects["intensity"] < 0 and page.locator("#ea-processes .el-table__body tr").count() == len(lmdi["processes"])
    assert "Steelmaking" in page.inner_text("#ea-processes")
    shot(page, "enterprise-analysis-decomposition")

    page.click("#tab-forecast")
    page.wait_for_selector("#ea-year-end")
    page.fill("#ea-output-growth", "8")
    page.click("#ea-forecast-run")
    page.wait_for_selector("#ea-peaks [data-scenario='custom']")
    end_year = datetime.now(ZONE).year + 10
    forecast = http.get("/api/v1/analysis/enterprise/forecast", headers=headers, params={
        "site": SITE, "tz": TZ, "end_year": end_year, "output_growth": 0.08, "output_step": -0.005,
        "intensity_change": -0.01, "factor_change": -0.005}).json()
    assert float(page.get_attribute("#ea-year-end", "data-value")) == pytest.approx(forecast["year_end"]["projected"])
    peaks = {s["name"]: str(s["peak"]["year"]) for s in forecast["scenarios"]}
    assert {name: page.inner_text(f"#ea-peaks [data-scenario='{name}']") for name in peaks} == peaks
    assert {s["name"]: float(page.get_attribute(f"#ea-peaks [data-peak='{s['name']}']", "data-value"))
            for s in forecast["scenarios"]} == pytest.approx({s["name"]: s["peak"]["co2_t"] for s in forecast["scenarios"]})
    # the drivers ranked by contribution and the rule-based suggestions, as the API gives them, per scenario
    by_name = {s["name"]: s for s in forecast["scenarios"]}
    for name, label in (("baseline", None), ("custom", "Custom")):
        if label:
            page.click(f"#ea-ranking-scenario .el-radio-button:has-text('{label}')")
        want = by_name[name]
        page.wait_for_function("n => document.querySelectorAll('#ea-suggestions li').length === n",
                               arg=len(want["suggestions"]))
        shown = [(e.get_attribute("data-factor"), float(v.get_attribute("data-value"))) for e, v in zip(
            page.locator("#ea-factors [data-factor]").all(), page.locator("#ea-factors [data-value]").all(), strict=True)]
        assert shown == [(f["name"], pytest.approx(f["contribution_t"])) for f in want["factors"]]
        assert [li.get_attribute("data-rule") for li in page.locator("#ea-suggestions li").all()] == [
            s["rule"] for s in want["suggestions"]]
    assert "Output" in page.inner_text("#ea-factors")
    # the band's basis, or why there is none (the copies span about 15 months: other tests' seeds may add years)
    if forecast["interval"]["spread"] is None:
        assert "No interval: fewer than 4 whole years" in page.inner_text("#ea-interval")
    else:
        assert float(page.get_attribute("#ea-interval", "data-spread")) == pytest.approx(forecast["interval"]["spread"])
    shot(page, "enterprise-analysis-forecast")


def test_enterprise_analysis_fits_a_phones_width(browser: object, web_app: object, live_api: str, users: Users,
                                                 history: dict[str, str]) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN",  # type: ignore[attr-defined]
                                  timezone_id=TZ)
    try:
        page = context.new_page()
        log_in(page, live_api, *users.manager)
        page.goto(f"{live_api}/#/enterprise-analysis?site={SITE}&base={history['base']}&target={history['target']}")
        page.wait_for_selector("#ea-change")
        widths = {"decomposition": page.evaluate("() => document.documentElement.scrollWidth")}
        text = page.inner_text("#app")
        assert ("企业降碳分析" in text, "工序结构效应" in text, "enterpriseAnalysis." in text) == (True, True, False)
        shot(page, "phone-enterprise-analysis")
        page.click("#tab-forecast")
        page.wait_for_selector("#ea-peaks [data-scenario='baseline']")
        widths["forecast"] = page.evaluate("() => document.documentElement.scrollWidth")
        shot(page, "phone-enterprise-analysis-forecast")
        assert all(w <= 390 for w in widths.values()), widths
    finally:
        context.close()
