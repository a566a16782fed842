"""The carbon targets page (#/targets) in a real headless Chromium against the API under uvicorn: a government
user sets a total target for a city through the form (a bad base year is refused by the form), previews its
allocation to units, issues it and sees the monthly tracking with the off-track warning and the provisional
assessment; the enterprise user of one unit sees only its own allocation, on a 390 px wide phone. Figures on
screen are checked against the API's answers. Screenshots: tests/artifacts/web-targets-*.png."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import psycopg
import pytest

from tests.api.conftest import login, make_user
from tests.api.test_monitoring import credit_code
from tests.web.conftest import Users
from tests.web.ui import choose, log_in, shot

Page = Any  # playwright.sync_api.Page
pytestmark = pytest.mark.timeout(900)

CITY = "331100"  # 丽水市, inside the government user's CN-ZJ


@pytest.fixture(scope="module")
def lishui(live_api: str, users: Users, database_url: str) -> dict[str, Any]:
    """Two units in Lishui with 2025 and 2026 Q1 figures (the steelworks' coal up 5 %, the chemical plant's down
    5 %); the chemical plant belongs to an enterprise of its own (one per module that seeds)."""
    enterprise = f"w-targets-{uuid.uuid4().hex[:6]}"
    codes = {"steel": credit_code(CITY), "chem": credit_code(CITY)}
    lines = ["credit_code,unit_name,region_code,industry_code,month,item,quantity,unit"]
    for month in [f"2025-{m:02d}" for m in range(1, 13)] + ["2026-01", "2026-02", "2026-03"]:
        grow = 1.05 if month.startswith("2026") else 1.0
        lines += [f"{codes['steel']},LS Steel {codes['steel'][-4:]},{CITY},313,{month},coal,{100 * grow:.3f},t",
                  f"{codes['steel']},LS Steel {codes['steel'][-4:]},{CITY},313,{month},value_added,1000,万元",
                  f"{codes['chem']},LS Chem {codes['chem'][-4:]},{CITY},261,{month},coal,{50 / grow:.3f},t",
                  f"{codes['chem']},LS Chem {codes['chem'][-4:]},{CITY},261,{month},value_added,500,万元"]
    with httpx.Client(base_url=live_api, timeout=60) as http:
        admin = login(http, *users.admin)
        r = http.post("/api/v1/monitoring/imports", headers=admin,
                      files={"file": ("figures.csv", ("\n".join(lines) + "\n").encode(), "text/csv")},
                      data={"take_valid": "false"})
        assert r.status_code == 200, r.text
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute("INSERT INTO enterprises (enterprise_id, name, region) VALUES (%s, 'LS Chem', 'CN-ZJ')"
                         " ON CONFLICT DO NOTHING", (enterprise,))
            conn.execute("UPDATE monitoring_units SET enterprise_id = %s WHERE credit_code = %s",
                         (enterprise, codes["chem"]))
            ids = dict(conn.execute("SELECT credit_code, unit_id FROM monitoring_units WHERE credit_code = ANY(%s)",
                                    (list(codes.values()),)).fetchall())
    return {"units": {name: ids[code] for name, code in codes.items()}, "admin": admin, "enterprise": enterprise}


@pytest.fixture(scope="module")
def chem_user(live_api: str, lishui: dict[str, Any]) -> tuple[str, str]:
    with httpx.Client(base_url=live_api, timeout=30) as http:
        name, password, _ = make_user(http, lishui["admin"], "enterprise", enterprise_id=lishui["enterprise"])  # type: ignore[arg-type]
    return name, password


def _pick_year(page: Page, picker: str, year: str) -> None:
    page.fill(picker, year)
    page.press(picker, "Enter")


def test_government_user_sets_previews_issues_and_tracks_a_target(
        page: Page, live_api: str, users: Users, lishui: dict[str, Any], http: httpx.Client) -> None:
    log_in(page, live_api, *users.government)
    page.goto(live_api + "/#/targets")
    page.click("#target-new")
    page.wait_for_selector("#target-form")
    choose(page, "#target-region", CITY)
    page.fill("#target-name", "Lishui 2026 cap")
    _pick_year(page, "#target-year", "2026")
    _pick_year(page, "#target-base-year", "2026")
    page.fill("#target-value", "1000")
    page.click("#target-preview")
    page.wait_for_selector("#target-form .el-form-item__error:has-text('base year must be before')")
    _pick_year(page, "#target-base-year", "2025")
    page.click("#target-preview")
    page.wait_for_selector("#target-detail[data-state='draft']")
    gov = login(http, *users.government)
    mine = [t for t in http.get("/api/v1/analysis/targets", headers=gov).json()["targets"]
            if t["region_code"] == CITY and t["name"] == "Lishui 2026 cap"]
    target = http.get(f"/api/v1/analysis/targets/{mine[-1]['target_id']}", headers=gov).json()
    rows = page.locator("#target-allocations .el-table__body .el-table__row")
    assert rows.count() == len(target["allocations"]) >= 2
    assert round(sum(a["target"] for a in target["allocations"]), 6) == 1000
    shot(page, "targets-preview-en")

    page.click("#target-issue")
    page.wait_for_selector("#target-detail[data-state='issued']")
    page.click("#target-tabs .el-tabs__item:has-text('Monthly tracking')")
    page.wait_for_selector("#track-chart canvas, #track-chart svg")
    tracking = http.get(f"/api/v1/analysis/targets/{target['target_id']}/tracking", headers=gov).json()
    if tracking["off_track"]:
        page.wait_for_selector("#target-off-track")
    else:
        page.wait_for_selector("#target-on-track")
    shot(page, "targets-tracking-en")

    page.click("#target-tabs .el-tabs__item:has-text('Assessment')")
    page.wait_for_selector("#assessment-table .el-table__row")
    result = http.get(f"/api/v1/analysis/targets/{target['target_id']}/assessment", headers=gov).json()
    assert page.locator("#assessment-table .el-table__body .el-table__row").count() == len(result["holders"])
    assert "Provisional" in page.inner_text("#assessment-state")  # 2026 has three months of figures
    with page.expect_download() as download:
        page.click("#assessment-csv")
    assert download.value.suggested_filename == f"target-{target['target_id']}-assessment.csv"
    shot(page, "targets-assessment-en")


@pytest.fixture
def phone(browser: object, web_app: object) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")  # type: ignore[attr-defined]
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


def test_enterprise_user_sees_only_its_own_allocation_on_a_phone(
        phone: Page, live_api: str, users: Users, lishui: dict[str, Any], chem_user: tuple[str, str],
        http: httpx.Client) -> None:
    gov = login(http, *users.government)
    r = http.post("/api/v1/analysis/targets", headers=gov, json={
        "region": CITY, "name": "丽水 2026 强度", "kind": "intensity", "year": 2026, "base_year": 2025, "value": 0.04,
        "holder_level": "unit", "rule": "equal_rate"})
    assert r.status_code == 201, r.text
    tid = r.json()["target_id"]
    assert http.post(f"/api/v1/analysis/targets/{tid}/issue", headers=gov).status_code == 200
    log_in(phone, live_api, *chem_user)
    phone.goto(live_api + f"/#/targets?target={tid}")
    phone.wait_for_selector("#target-detail[data-state='issued']")
    rows = phone.locator("#target-allocations .el-table__body .el-table__row")
    assert rows.count() == 1
    assert "LS Chem" in rows.first.inner_text()
    assert phone.locator("#target-new, #target-issue").count() == 0
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
    phone.click("#target-tabs .el-tabs__item:has-text('月度跟踪')")
    phone.wait_for_selector("#track-chart canvas, #track-chart svg")
    shot(phone, "targets-enterprise-390-zh")


def seed_works(http: httpx.Client, admin: dict[str, str], database_url: str) -> str:
    """An EAF works of its own in Ningbo with May 2025 activity (furnace electricity and output, gas in the
    auxiliary boilers, a process no test gives an indicator) and an
    illustrative furnace indicator in the process benchmark library; its enterprise id."""
    works = f"w-pot-{uuid.uuid4().hex[:6]}"
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("INSERT INTO enterprises (enterprise_id, name, region, industry) VALUES (%s, %s, 'CN-ZJ-NB',"
                     " 'steel')", (works, f"Potential works {works[-6:]}"))
        conn.execute("INSERT INTO sites (site_id, enterprise_id, name, province) VALUES (%s, %s, 'works 1',"
                     " 'zhejiang')", (f"{works}-s1", works))
    lines = [{"period": "2025-05", "process": "steelmaking_eaf", "source_type": "electricity", "item": "grid",
              "quantity": 4_000, "unit": "MWh", "direction": "in"},
             {"period": "2025-05", "process": "steelmaking_eaf", "source_type": "production", "item": "crude_steel",
              "quantity": 5_000, "unit": "t", "direction": "out"},
             {"period": "2025-05", "process": "auxiliary", "source_type": "combustion", "item": "natural_gas",
              "quantity": 100_000, "unit": "Nm3", "direction": "in"}]
    r = http.post(f"/api/v1/inventory/{works}/activity", headers=admin, json={"lines": lines, "note": "web test"})
    assert r.status_code == 201, r.text
    r = http.put("/api/v1/process-benchmarks/steelmaking_eaf/eaf/crude_steel", headers=admin,  # illustrative values
                 json={"benchmark_tco2_per_t": 0.1, "limit_tco2_per_t": 0.2, "source": "web test values"})
    assert r.status_code == 200, r.text
    return works


def test_government_user_reads_a_works_reduction_potential_per_process(
        page: Page, live_api: str, users: Users, lishui: dict[str, Any], http: httpx.Client,
        database_url: str) -> None:
    works = seed_works(http, lishui["admin"], database_url)
    log_in(page, live_api, *users.government)
    page.goto(live_api + "/#/reduction-potential")
    choose(page, "#potential-year", f"{works}/2025")
    page.wait_for_selector("#potential-table [data-process='auxiliary']")
    api = http.get(f"/api/v1/analysis/reduction-potential/{works}", headers=login(http, *users.government),
                   params={"year": 2025}).json()
    page.wait_for_function("v => Math.abs(Number(document.querySelector('#potential-benchmark').dataset.value) - v)"
                           " < 1e-6", arg=api["to_benchmark_tco2"])
    shown = page.eval_on_selector_all("#potential-table [data-process]",
                                      "els => Object.fromEntries(els.map(e => [e.dataset.process, e.dataset.status]))")
    assert shown == {row["process"]: row["status"] for row in api["processes"]}
    assert shown["auxiliary"] == "no_benchmark" and api["to_benchmark_tco2"] > 0
    page.wait_for_selector("#potential-missing")
    page.wait_for_selector("#potential-chart canvas, #potential-chart svg")
    shot(page, "targets-potential-en")
