"""The overview's comparison panel in headless Chromium: this month to date against the same span of last month
(环比) and of this month last year (同比), in total and by process, equal to GET /emissions/compare for the cut
time the page used. Screenshots: tests/artifacts/web-overview-compare-*.png."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import psycopg
import pytest

from carbon_domain.periods import Period
from tests.api.conftest import login
from tests.web.conftest import (
    ARTIFACTS,
    GAS_FACTORS,
    GAS_T_PER_1E4NM3,
    GRID,
    GRID_T_PER_MWH,
    SITE,
    TZ,
    Users,
)
from tests.web.ui import log_in, value

Page = Any  # playwright.sync_api.Page
pytestmark = pytest.mark.timeout(900)
ZONE = ZoneInfo(TZ)
# the base periods' emissions: (months back, process device, point, activity, quantity, unit, tCO2, factors)
BASE = [
    (1, "w-elec-main", "energy_import_kwh", "electricity", 2.0, "MWh", 2.0 * GRID_T_PER_MWH, [GRID]),
    (1, "w-gas-mill", "volume_total_nm3", "natural_gas", 0.5, "1e4Nm3", 0.5 * GAS_T_PER_1E4NM3, GAS_FACTORS),
    (12, "w-elec-mill", "energy_import_kwh", "electricity", 3.0, "MWh", 3.0 * GRID_T_PER_MWH, [GRID]),
]


def _months_back(now: datetime, months: int) -> tuple[datetime, datetime]:
    """The start of this month and of the month `months` before it, in Shanghai."""
    here = Period(now.year, now.month)
    y, m0 = divmod(now.year * 12 + now.month - 1 - months, 12)
    return here.window(ZONE)[0], Period(y, m0 + 1).window(ZONE)[0]


@pytest.fixture(scope="module")
def base_periods(database_url: str, plant: str) -> dict[int, float]:
    """Emissions of the plant early in last month's and last year's same span (half way from the month's start to
    now's point of the month) and, left out by the cut, two hours after that point: tCO2 seeded per months back."""
    now = datetime.now(ZONE)
    seeded: dict[int, float] = {}
    with psycopg.connect(database_url, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM emissions WHERE seq >= 9000000 AND site_id = %s", (SITE,)).fetchone():
            return {1: 2.0 * GRID_T_PER_MWH + 0.5 * GAS_T_PER_1E4NM3, 12: 3.0 * GRID_T_PER_MWH}
        rows = []
        for i, (back, device, point, activity, qty, unit, tco2, factors) in enumerate(BASE):
            month_start, base_start = _months_back(now, back)
            base_end = Period(base_start.year, base_start.month).window(ZONE)[1]
            inside = base_start + (now - month_start) / 2
            after = base_start + (now - month_start) + timedelta(hours=2)
            # the cut is the same date and time in the base month (no DST in Shanghai) when the base month has
            # that day; otherwise the whole base month counts and there is no "after"
            has_day = base_start + (now - month_start) < base_end
            for j, ts in enumerate((inside, after)):
                if j == 1 and not (has_day and after < base_end):
                    continue
                rows.append((9_000_000 + 2 * i + j, ts, device, point, activity, qty, unit, tco2, factors))
            seeded[back] = seeded.get(back, 0.0) + tco2
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO emissions (gateway_key, seq, ts, start_ts, point_key, site_id, activity, quantity,"
                " quantity_unit, tco2, factor_ids, formula, quality)"
                " SELECT g.gateway_key, %s, %s, %s - interval '15 minutes', p.point_key, %s, %s, %s, %s, %s, %s, %s, 0"
                " FROM gateways g, points p WHERE g.gateway_id = 'w-gw' AND p.device_id = %s AND p.point = %s",
                [(seq, ts, ts, SITE, activity, qty, unit, tco2, factors,
                  "electricity/v1" if activity == "electricity" else "combustion/v1", device, point)
                 for seq, ts, device, point, activity, qty, unit, tco2, factors in rows])
        # written around the stream job: its scope rollups, rebuilt as `carbonflow recompute` does
        conn.execute("SELECT cf_rebuild_scope_rollups(%s, %s, %s)",
                     (SITE, min(r[1] for r in rows), max(r[1] for r in rows)))
    return seeded


TOTAL = ".el-table__footer tr:has([data-row='total'])"  # the table's summary row


def _cells(page: Page, row: str) -> dict[str, float | None]:
    return {col: value(page, f"#table-compare {row} [data-col='{col}']")
            for col in ("current", "mom", "mom-change", "yoy", "yoy-change")}


def _api_cells(mom: dict[str, Any], yoy: dict[str, Any]) -> dict[str, float | None]:
    return {"current": mom["current"], "mom": mom["previous"], "mom-change": mom["relative_change"],
            "yoy": yoy["previous"], "yoy-change": yoy["relative_change"]}


def test_overview_compares_this_month_to_date_with_last_month_and_last_year_as_the_api_does(
    page: Page, live_api: str, http: httpx.Client, users: Users, base_periods: dict[int, float]
) -> None:
    log_in(page, live_api, *users.manager)
    page.wait_for_url("**/#/overview**")
    page.wait_for_selector("#table-compare[data-to]")
    to = page.get_attribute("#table-compare", "data-to")
    period = datetime.fromisoformat(to).astimezone(ZONE).strftime("%Y-%m")  # type: ignore[union-attr]
    headers = login(http, *users.manager)
    answers = {basis: http.get("/api/v1/emissions/compare", headers=headers, params={
        "site": SITE, "period": period, "basis": basis, "tz": TZ, "to": to}).json() for basis in ("mom", "yoy")}
    mom, yoy = answers["mom"], answers["yoy"]
    processes = sorted({p["process"] or "" for p in mom["by_process"] + yoy["by_process"]})
    by = {basis: {p["process"] or "": p["tco2"] for p in answer["by_process"]} for basis, answer in answers.items()}
    shown = {"total": _cells(page, TOTAL),
             **{p: _cells(page, f"tr:has([data-process='{p}'])") for p in processes}}
    expected = {"total": _api_cells(mom["total_tco2"], yoy["total_tco2"]),
                **{p: _api_cells(by["mom"][p], by["yoy"][p]) for p in processes}}
    page.locator("#compare-card").scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "web-overview-compare-en.png"), full_page=True)
    assert shown == expected
    # the base periods hold exactly what was seeded inside their span; the rows after the cut are left out
    assert (mom["total_tco2"]["previous"], yoy["total_tco2"]["previous"], mom["current"]["end"] == yoy["current"]["end"],
            sorted(p for p in processes if by["mom"][p]["previous"])) == (
        pytest.approx(base_periods[1], rel=1e-12), pytest.approx(base_periods[12], rel=1e-12), True,
        ["rolling", "steelmaking"])
    assert mom["total_tco2"]["current"] > 0 and shown["total"]["mom-change"] is not None


def test_the_comparison_panel_speaks_chinese(page: Page, live_api: str, users: Users,
                                            base_periods: dict[int, float]) -> None:
    log_in(page, live_api, *users.manager)
    page.wait_for_selector("#table-compare[data-to]")
    before = _cells(page, TOTAL)
    page.click(".sidebar [data-lang-switch]")
    page.wait_for_selector("html[lang='zh-CN']")
    labels = (page.inner_text("#compare-card h2"), page.inner_text("#table-compare thead th:nth-child(4)"),
              page.inner_text("#table-compare thead th:nth-child(6)"),
              page.inner_text("#table-compare tr:has([data-process='rolling']) td"))
    page.locator("#compare-card").scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "web-overview-compare-zh.png"), full_page=True)
    page.click(".sidebar [data-lang-switch]")  # back to English for the tests that follow in this browser
    page.wait_for_selector("html[lang='en']")
    assert (labels, _cells(page, TOTAL)) == (("本月至今 CO₂ 排放", "环比", "同比", "轧钢"), before)
