"""The reduction projects (#/projects) and carbon assets (#/assets) pages in a real headless Chromium against the
API under uvicorn. An enterprise user registers a PV project, moves it through its lifecycle, uploads a document
(whose SHA-256 shows), records spending, sets the stage's budget and progress (shown against its spending), computes a monitoring period from its metered export and submits it; the
assigned verifier (an auditor) verifies it with a finding and an administrator certifies it, which issues the
reduction into the enterprise's holdings; on the assets page the enterprise records a purchase of
CCER and sees its compliance position change by it. Figures on screen are checked against the API's answers.
Screenshots: tests/artifacts/web-projects-*.png, web-assets-*.png."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import psycopg
import pytest

from tests.api.conftest import login, make_user
from tests.web.conftest import Users
from tests.web.ui import choice, choose, log_in, open_from_drawer, shot, value

Page = Any  # playwright.sync_api.Page
pytestmark = pytest.mark.timeout(900)  # the first browser test may wait for apt-get to install Chromium

ENTERPRISE = "wpj-ent"  # an enterprise of these tests only (in CN-SH: no other web test's region sees it)
METER = "wpj-meter"
TAG = uuid.uuid4().hex[:6]
YEAR = datetime.now(UTC).year


@pytest.fixture(scope="module")
def owner(database_url: str, api_app_client: Any, admin_headers: dict[str, str]) -> dict[str, Any]:
    """The enterprise with a rooftop PV export meter whose January 2025 increase is 120 MWh (hourly rollups as the
    stream job writes them), its energy manager and a verifier (an auditor user)."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM enterprises WHERE enterprise_id = %s", (ENTERPRISE,)).fetchone() is None:
            with conn.transaction():
                conn.execute("INSERT INTO enterprises (enterprise_id, name, region) VALUES (%s, 'Rooftop PV Co.',"
                             " 'CN-SH')", (ENTERPRISE,))
                conn.execute("INSERT INTO sites (site_id, enterprise_id, name) VALUES ('wpj-site', %s, 'PV roof')",
                             (ENTERPRISE,))
                conn.execute("INSERT INTO devices (device_id, site_id, process) VALUES (%s, 'wpj-site', 'pv')",
                             (METER,))
                key = conn.execute("INSERT INTO points (device_id, point, unit, kind) VALUES (%s, 'export_kwh',"
                                   " 'kWh', 'counter') RETURNING point_key", (METER,)).fetchone()[0]  # type: ignore[index]
                for hour, first, last in ((datetime(2024, 12, 31, 10, tzinfo=UTC), 5000.0, 5000.0),
                                          (datetime(2025, 1, 12, 0, tzinfo=UTC), 5000.0, 125000.0)):
                    conn.execute(
                        "INSERT INTO rollup_1h (point_key, bucket, n, n_valid, sum, min, max, first_ts, first_value,"
                        " last_ts, last_value, worst_quality, n_uncertain, n_bad) VALUES (%s, %s, 2, 2, %s, %s, %s,"
                        " %s, %s, %s, %s, 0, 0, 0)",
                        (key, hour, first + last, first, last, hour + timedelta(minutes=1), first,
                         hour + timedelta(minutes=59), last))
    manager = make_user(api_app_client, admin_headers, "enterprise", enterprise_id=ENTERPRISE)
    verifier = make_user(api_app_client, admin_headers, "auditor", enterprises=[ENTERPRISE])
    return {"manager": manager[:2], "verifier": verifier[:2], "admin": admin_headers}


def test_enterprise_runs_a_project_the_assigned_verifier_verifies_it_and_an_administrator_certifies_it(
        page: Page, live_api: str, owner: dict[str, Any], users: Users, http: httpx.Client, tmp_path: Path) -> None:
    log_in(page, live_api, *owner["manager"])
    page.click("#nav a[data-route='projects']")
    page.click("#project-new")
    name = f"Roof PV {TAG}"
    page.fill("#project-name", name)
    page.click("#project-submit")  # the budget is required: the form says so and sends nothing
    page.wait_for_selector("#project-form .el-form-item__error")
    page.fill("#project-budget", "80000")
    page.click("#project-name")  # leave the number input so that its value is taken
    page.click("#project-submit")
    page.wait_for_selector("#project-steps")
    assert page.inner_text("#project-title") == name
    assert page.get_attribute("#project-stage", "data-stage") == "initiated"
    assert page.locator("#project-steps .el-step").count() == 4  # grid PV ends with filing

    page.fill("#stage-comment", "EPC contract signed")
    page.click("#stage-next")
    page.wait_for_selector("#project-stage[data-stage='implementing']")
    assert "EPC contract signed" in page.inner_text(".history")

    document = tmp_path / "grid-connection-approval.txt"
    document.write_bytes("并网验收意见 grid connection approval".encode())
    page.set_input_files("#doc-file", str(document))
    digest = hashlib.sha256(document.read_bytes()).hexdigest()
    page.wait_for_selector(f"#project-docs [data-sha256='{digest}']")

    page.fill("#spend-amount", "12500")
    page.fill("#spend-date", "2025-01-05")
    page.keyboard.press("Enter")
    page.click("#spend-note")
    page.fill("#spend-note", "inverters")
    page.click("#spend-submit")
    page.wait_for_selector("#project-spent[data-spent='12500']")
    assert choice(page, "#spend-stage") == "Implementing"  # spending goes to the current stage unless told

    # the stage's budget and progress, set in the lifecycle card, show against its spending as the API sums it
    page.fill("#plan-budget", "20000")
    page.fill("#plan-progress", "40")
    page.click("#plan-submit")
    row = "#project-stage-funds tr[data-stage='implementing']"
    page.wait_for_selector(f"{row}[data-budget='20000'][data-progress='40']")
    project_id = int(page.evaluate("new URLSearchParams(location.hash.split('?')[1]).get('id')"))
    manager = login(http, *owner["manager"])
    answer = http.get(f"/api/v1/projects/{project_id}", headers=manager).json()
    stage = next(s for s in answer["stages"] if s["stage"] == "implementing")
    assert (stage["budget"], stage["spent"], stage["progress_pct"], stage["documents"]) == (20000, 12500, 40, 1)
    assert float(page.get_attribute(row, "data-spent") or "nan") == stage["spent"]
    assert "12,500 spent of 20,000 yuan" in page.inner_text(row)
    assert page.locator(f"{row} .el-progress").count() == 2  # budget vs spent, and progress
    assert page.get_attribute("#project-stage-funds tr[data-stage='accepted']", "data-spent") == "0"
    r = http.put(f"/api/v1/projects/{project_id}/points", headers=manager,
                 json={"device_id": METER, "point": "export_kwh", "role": "export"})
    assert r.status_code == 200, r.text
    page.click("#project-back")  # the list shows it at its stage, with its spending; it opens again
    row = page.locator("#projects-table .el-table__row", has=page.locator(f"a[data-project='{project_id}']"))
    assert row.locator("[data-stage]").get_attribute("data-stage") == "implementing"
    page.click(f"#projects-table a[data-project='{project_id}']")
    page.wait_for_selector("#project-points .el-table__row")

    page.fill("#compute-from", "2025-01")
    page.fill("#compute-to", "2025-01")
    page.keyboard.press("Enter")
    page.click("#compute-justification")
    page.click("#compute-submit")
    page.wait_for_selector("#periods-table b.er")
    [period] = http.get(f"/api/v1/projects/{project_id}/periods", headers=manager).json()["periods"]
    assert value(page, "#periods-table b.er") == pytest.approx(period["er_tco2"], rel=1e-12)
    assert period["be_tco2"] == pytest.approx(120 * period["ef_cm"])  # 120 MWh exported × EF_CM, nothing imported

    page.click(f"#periods-table a[data-period='{period['period_id']}']")
    page.wait_for_selector("#period-formula")
    assert page.inner_text("#period-formula") == period["provenance"]["formula_version"]
    assert set(page.locator("#period-factors .badge").all_inner_texts()) == set(period["provenance"]["factor_ids"])
    assert page.locator("#period-verify, #period-certify").count() == 0  # the owner neither verifies nor certifies
    page.fill("#period-note", "January export, meter calibrated 2024-11")
    page.click("#period-submit")
    page.wait_for_selector("#period-status[data-status='submitted']")
    shot(page, "projects-owner-en")

    assert http.post(f"/api/v1/projects/{project_id}/verifiers", headers=owner["admin"],
                     json={"username": owner["verifier"][0]}).status_code == 201
    page.evaluate("sessionStorage.clear()")
    log_in(page, live_api, *owner["verifier"])
    page.goto(f"{live_api}/#/projects?id={project_id}")
    page.click(f"#periods-table a[data-period='{period['period_id']}']")
    page.wait_for_selector("#period-verify")
    assert page.locator("#period-submit, #stage-next, #doc-upload, #compute-form").count() == 0
    page.click("#period-verify")  # a verdict needs the finding
    page.wait_for_selector("#periods-error")
    page.fill("#period-note", "readings match the settlement bills")
    page.click("#period-verify")
    page.wait_for_selector("#period-status[data-status='verified']")
    events = page.locator("#period-events li").evaluate_all("els => els.map(e => e.dataset.action)")
    assert events == ["submit", "verify"]
    got = http.get(f"/api/v1/projects/{project_id}/periods/{period['period_id']}",
                   headers=login(http, *owner["verifier"])).json()
    assert (got["status"], [e["comment"] for e in got["events"]]) == (
        "verified", ["January export, meter calibrated 2024-11", "readings match the settlement bills"])
    shot(page, "projects-verifier-en")

    # an administrator certifies it, which issues whole tonnes into the owner's holdings
    page.evaluate("sessionStorage.clear()")
    log_in(page, live_api, *users.admin)
    page.goto(f"{live_api}/#/projects?id={project_id}")
    page.click(f"#periods-table a[data-period='{period['period_id']}']")
    page.fill("#period-note", "certified")
    page.click("#period-certify")
    page.wait_for_selector("#period-status[data-status='certified']")
    page.keyboard.press("Escape")
    page.goto(f"{live_api}/#/assets?enterprise={ENTERPRISE}")
    issued = next(e for e in http.get(f"/api/v1/assets/{ENTERPRISE}/ledger", headers=manager).json()["entries"]
                  if e["reference"] == f"project:{project_id}:period:{period['period_id']}")
    assert issued["quantity"] == int(period["er_tco2"])  # whole tonnes, rounded down
    page.wait_for_selector("#ledger-table [data-kind='issue']")
    held = {h["vintage"]: h["quantity"] for h in http.get(f"/api/v1/assets/{ENTERPRISE}/holdings",
                                                          headers=manager).json()["holdings"]
            if h["instrument"] == "certified_reduction"}
    assert value(page, "#holdings-table [data-holding='certified_reduction:2025']") == pytest.approx(held[2025])


def test_enterprise_records_a_purchase_and_sees_its_compliance_position_change(
        page: Page, live_api: str, owner: dict[str, Any], http: httpx.Client) -> None:
    admin, base = owner["admin"], f"/api/v1/assets/{ENTERPRISE}"
    r = http.put(f"{base}/allowances/{YEAR}", headers=admin, json={"method": "entered", "amount": 990000})
    assert r.status_code in (201, 409), r.text  # allocated once; a second run finds it
    assert http.put(f"{base}/emissions/{YEAR}", headers=admin, json={"tco2": 1000000}).status_code == 200
    for month, tco2 in ((1, 90000), (2, 80000)):
        assert http.put(f"{base}/emissions/{YEAR}", headers=admin, params={"month": month},
                        json={"tco2": tco2}).status_code == 200
    manager = login(http, *owner["manager"])

    def api_position() -> dict[str, Any]:
        answer = http.get(f"{base}/compliance/{YEAR}", headers=manager, params={"offset_cap": 0.05})
        assert answer.status_code == 200, answer.text
        return answer.json()  # type: ignore[no-any-return]

    log_in(page, live_api, *owner["manager"])
    page.click("#nav a[data-route='assets']")
    page.wait_for_selector("#cp-position[data-value]")
    before = api_position()
    page.wait_for_function("v => Number(document.querySelector('#cp-position')?.dataset.value) === v",
                           arg=before["position"]["position"])
    assert value(page, "#cp-allowances") == pytest.approx(before["allowances"])
    assert value(page, "#cp-gap") == pytest.approx(before["projection"]["gap"])
    assert page.get_attribute(f"#allowances-table b[data-year='{YEAR}']", "data-value") is not None

    page.click("#tx-new")
    choose(page, "#tx-instrument", "ccer")
    page.fill("#tx-vintage", str(YEAR - 1))
    page.fill("#tx-quantity", "40")
    page.fill("#tx-price", "70")
    page.fill("#tx-counterparty", "CEEX")
    page.click("#tx-submit")
    page.wait_for_selector("#tx-done")
    after = api_position()
    assert after["position"]["position"] - before["position"]["position"] == pytest.approx(40)
    page.wait_for_function("v => Number(document.querySelector('#cp-position')?.dataset.value) === v",
                           arg=after["position"]["position"])
    assert value(page, f"#holdings-table [data-holding='ccer:{YEAR - 1}']") == pytest.approx(
        next(h["quantity"] for h in http.get(f"{base}/holdings", headers=manager).json()["holdings"]
             if (h["instrument"], h["vintage"]) == ("ccer", YEAR - 1)))
    assert page.locator("#ledger-table .el-table__row").first.locator("[data-kind]").get_attribute("data-kind") == "buy"
    costs = {c["scenario"]: c["cost"] for c in _scenario_costs(http, base, manager)}
    for scenario, cost in costs.items():
        assert value(page, f"#cp-costs [data-scenario='{scenario}']") == pytest.approx(cost)
    shot(page, "assets-en")



@pytest.mark.parametrize("route, ready", [("projects", "#projects-table"), ("assets", "#cp-position")])
def test_the_pages_fit_a_phones_width_in_chinese(browser: object, web_app: object, live_api: str,
                                                 owner: dict[str, Any], route: str, ready: str) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")  # type: ignore[attr-defined]
    try:
        page = context.new_page()
        log_in(page, live_api, *owner["manager"])
        page.wait_for_selector("#nav a.active", state="attached")
        open_from_drawer(page, route, ready)
        widths = {route: page.evaluate("() => document.documentElement.scrollWidth")}
        if route == "projects":  # a project opened: its steps, documents, funds and periods
            page.locator("#projects-table a[data-project]").first.click()
            page.wait_for_selector("#project-steps")
            widths["project"] = page.evaluate("() => document.documentElement.scrollWidth")
            assert page.inner_text("#project-back") == "返回列表"
        shot(page, f"phone-{route}-zh")
        assert widths == {name: 390 for name in widths}
    finally:
        context.close()


def _scenario_costs(http: httpx.Client, base: str, headers: dict[str, str]) -> list[dict[str, Any]]:
    """The trading cost of the page's default scenarios (low 60, mid 80, high 100) with the default offset cap."""
    r = http.get(f"{base}/compliance/{YEAR}", headers=headers,
                 params=[("offset_cap", "0.05"), ("scenario", "low:60"), ("scenario", "mid:80"), ("scenario", "high:100")])
    assert r.status_code == 200, r.text
    return r.json()["trading_costs"]  # type: ignore[no-any-return]


def test_a_government_user_sets_a_deadline_that_its_regions_enterprise_sees_as_due_soon(
        page: Page, live_api: str, users: Users, http: httpx.Client) -> None:
    due = (datetime.now(UTC) + timedelta(days=20)).astimezone(ZoneInfo("Asia/Shanghai")).date()
    title = f"2026 allowance surrender {TAG}"
    log_in(page, live_api, *users.government)
    page.click("#nav a[data-route='assets']")
    page.click("#deadline-new")
    page.fill("#deadline-title", title)
    page.fill("#deadline-due", due.isoformat())
    page.keyboard.press("Enter")
    page.click("#deadline-title")
    page.click("#deadline-submit")
    cell = page.locator("#deadlines-table tr", has=page.locator(f"text={title}"))
    cell.wait_for()
    assert cell.locator("[data-status]").get_attribute("data-status") == "due_soon"
    assert "CN-ZJ" in cell.inner_text()
    shot(page, "assets-deadlines-government-en")

    page.evaluate("sessionStorage.clear()")
    log_in(page, live_api, *users.manager)  # w-ent, in CN-ZJ-NB: the CN-ZJ deadline applies
    page.click("#nav a[data-route='assets']")
    page.wait_for_selector("#deadline-soon")
    seen = {d["title"]: d for d in http.get("/api/v1/assets/deadlines",
                                            headers=login(http, *users.manager)).json()["deadlines"]}
    row = page.locator("#deadlines-table tr", has=page.locator(f"text={title}"))
    assert row.locator("[data-status]").inner_text().strip() == f"due in {seen[title]['days_left']} days"
    assert page.locator("#deadline-new, #deadlines-table button.remove").count() == 0  # enterprises only read it


def test_a_government_user_checks_the_asset_alarms_now_and_follows_the_link_to_the_reminders(
        page: Page, live_api: str, users: Users, http: httpx.Client) -> None:
    gov = login(http, *users.government)
    r = http.put(f"/api/v1/assets/w-ent/allowances/{YEAR}", headers=gov, json={"method": "entered", "amount": 1000})
    assert r.status_code in (201, 409), r.text  # w-ent (CN-ZJ-NB) holds allowances: the CN-ZJ deadline reminds it
    due = datetime.now(ZoneInfo("Asia/Shanghai")).date() + timedelta(days=5)
    r = http.post("/api/v1/assets/deadlines", headers=gov,
                  json={"kind": "trading", "title": f"auction {TAG}", "due_on": due.isoformat(), "remind_days": 10})
    assert r.status_code == 201, r.text
    subject = f"assets_deadline:{r.json()['deadline_id']}:w-ent"

    log_in(page, live_api, *users.government)
    page.click("#nav a[data-route='assets']")
    page.click("#assets-check-alarms")
    page.wait_for_selector("#assets-alarm-check")
    entries = http.get("/api/v1/audit", headers=login(http, *users.admin),
                       params={"action": "assets.alarms.check", "limit": 1}).json()["entries"]
    checked = entries[0]["detail"]
    assert subject in checked["deadlines"]
    assert page.inner_text("#assets-alarm-check") == (
        f"Alarm check done: {len(checked['deficits'])} projected deficit(s) and {len(checked['deadlines'])} deadline"
        f" reminder(s) active, {len(checked['cleared'])} cleared.")
    shot(page, "assets-alarm-check-en")

    page.click("#deadline-alarms")
    page.wait_for_selector(f"#alarms-table >> text={subject}")
    assert page.url.endswith("#/alarms?rule=compliance_deadline")
    assert choice(page, "#alarm-rule") == "Compliance or trading deadline ahead"
    rows = page.locator("#alarms-table .el-table__body tr").all_inner_texts()
    assert rows and all("Compliance or trading deadline ahead" in row for row in rows)
    shot(page, "assets-alarms-link-en")
    http.delete(f"/api/v1/assets/deadlines/{r.json()['deadline_id']}", headers=gov)


def test_an_enterprise_user_links_to_its_deficit_alarms_but_has_no_check_button(
        page: Page, live_api: str, owner: dict[str, Any]) -> None:
    log_in(page, live_api, *owner["manager"])
    page.click("#nav a[data-route='assets']")
    page.wait_for_selector("#cp-alarms")
    assert page.locator("#assets-check-alarms").count() == 0
    page.click("#cp-alarms")
    page.wait_for_selector("#alarms-table")
    assert page.url.endswith("#/alarms?rule=deficit_projected")
    assert choice(page, "#alarm-rule") == "Allowance deficit projected"
