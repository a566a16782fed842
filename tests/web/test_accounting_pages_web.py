"""The accounting pages in headless Chromium, each as the role that uses it: the energy manager enters activity
data in the form and uploads a file whose bad row is named by its line; a report goes through its workflow
(送审 by the enterprise, 初审 and 终审 by two government reviewers, 核查 by the auditor), each step taken on the
page by the person allowed to, who alone sees its button; both pages fit a phone's 390 px.
Screenshots: tests/artifacts/web-activity-*.png, web-reports-*.png."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.api.conftest import login, make_user
from tests.web.conftest import SITE, TZ, Users
from tests.web.ui import choose, log_in, shot

Page = Any  # playwright.sync_api.Page
pytestmark = pytest.mark.timeout(600)
ENTERPRISE = "w-ent"
FLOW_YEAR = 2023  # a year no other browser test reports on


def _versions(http: httpx.Client, headers: dict[str, str]) -> list[dict[str, Any]]:
    return http.get(f"/api/v1/inventory/{ENTERPRISE}/activity", headers=headers).json()["submissions"]  # type: ignore[no-any-return]


def _last_month() -> str:
    """The month before this one in the browser's time zone (Shanghai), the form's default period."""
    today = datetime.now(ZoneInfo(TZ)).date()
    year, month = (today.year, today.month - 1) if today.month > 1 else (today.year - 1, 12)
    return f"{year:04d}-{month:02d}"


def test_energy_manager_enters_a_line_in_the_form_and_it_is_stored_as_a_new_version(
    page: Page, live_api: str, users: Users, http: httpx.Client
) -> None:
    headers = login(http, *users.manager)
    before = len(_versions(http, headers))
    log_in(page, live_api, *users.manager)
    page.click("#nav a[data-route='activity']")
    page.wait_for_selector("#activity-form")
    page.click("#activity-add")  # nothing chosen yet: the form says what is missing and adds nothing
    page.wait_for_selector("#activity-form .el-form-item__error")
    refused = page.locator("#pending-lines .el-table__row").count()
    choose(page, "#activity-item", "natural_gas")
    page.fill(".entry-form .el-input-number input", "12.5")
    choose(page, "#activity-process", "rolling")
    page.click("#activity-add")
    page.wait_for_selector("#pending-lines .el-table__row")
    shot(page, "activity-form")
    page.click("#activity-submit")
    page.wait_for_selector("#activity-done")
    versions = _versions(http, headers)
    stored = http.get(f"/api/v1/inventory/{ENTERPRISE}/activity/{versions[-1]['version']}", headers=headers).json()
    page.click(f".el-table__row:has([data-version='{versions[-1]['version']}']) .read-version")
    page.wait_for_selector("#version-lines .el-table__row")
    shot(page, "activity-version")
    assert (refused, len(versions), versions[-1]["origin"], versions[-1]["submitted_by"]) == (
        0, before + 1, "json", users.manager[0])
    assert [{k: line[k] for k in ("line", "period", "site", "process", "source_type", "item", "quantity", "unit",
                                  "direction", "quality")} for line in stored["lines"]] == [
        {"line": 1, "period": _last_month(), "site": SITE, "process": "rolling", "source_type": "combustion",
         "item": "natural_gas", "quantity": 12.5, "unit": "1e4Nm3", "direction": "in", "quality": "measured"}]


def test_an_uploaded_file_with_a_bad_row_is_refused_naming_its_line(
    page: Page, live_api: str, users: Users, http: httpx.Client, tmp_path: Any
) -> None:
    headers = login(http, *users.manager)
    before = len(_versions(http, headers))
    bad = tmp_path / "activity.csv"
    bad.write_text("period,site,process,source_type,item,quantity,unit,direction\n"
                   f"2022-01,{SITE},rolling,combustion,natural_gas,10,1e4Nm3,in\n"
                   f"2022-01,{SITE},rolling,combustion,unobtainium,3,t,in\n"
                   f"2022-02,{SITE},rolling,electricity,grid,-5,MWh,in\n", encoding="utf-8")
    log_in(page, live_api, *users.manager)
    page.goto(live_api + "/#/activity")
    page.wait_for_selector("#activity-form")
    page.set_input_files(".el-upload__input", str(bad))
    page.click("#upload-submit")
    page.wait_for_selector("#file-problems .problem-line")
    lines = page.eval_on_selector_all("#file-problems .problem-line", "els => els.map(e => Number(e.dataset.line))")
    shot(page, "activity-upload-problems")
    assert (lines, len(_versions(http, headers))) == ([3, 4], before)


def _open_report(page: Page, live_api: str, who: tuple[str, str]) -> None:
    log_in(page, live_api, *who)
    page.goto(live_api + f"/#/reports?q={ENTERPRISE}/{FLOW_YEAR}")  # the search: other tests' reports fill pages
    page.click(f".el-table__row:has([data-report='{ENTERPRISE}/{FLOW_YEAR}']) .open-report")
    page.wait_for_selector("#report-detail")


def _actions(page: Page) -> list[str]:
    page.wait_for_selector("#report-detail .controls")
    buttons = page.eval_on_selector_all("#report-detail .report-action", "els => els.map(e => e.dataset.action)")
    return buttons + (["verify"] if page.locator("#report-verify").count() else [])


def _take(page: Page, action: str, state: str) -> None:
    page.click(f"#report-detail .action-{action}")
    page.wait_for_selector(f"#report-detail[data-state='{state}']")


def test_a_report_goes_through_its_workflow_each_step_taken_by_the_person_allowed_to(
    browser: Any, web_app: Any, live_api: str, users: Users, http: httpx.Client, api_app_client: Any,
    admin_headers: dict[str, str]
) -> None:
    manager = login(http, *users.manager)
    lines = [{"period": f"{FLOW_YEAR}-{m:02d}", "site": SITE, "process": "rolling", "source_type": "combustion",
              "item": "natural_gas", "quantity": 40 + m, "unit": "1e4Nm3", "direction": "in"} for m in (1, 2, 3)]
    entered = http.post(f"/api/v1/inventory/{ENTERPRISE}/activity", headers=manager, json={"lines": lines})
    assert entered.status_code == 201, entered.text
    second_reviewer = make_user(api_app_client, admin_headers, "government", region="CN-ZJ")[:2]
    seen: dict[str, list[str]] = {}

    def as_(who: tuple[str, str], name: str) -> Page:
        context = browser.new_context(viewport={"width": 1440, "height": 900}, timezone_id=TZ)
        context.set_default_timeout(15_000)
        context.add_init_script("localStorage.setItem('carbonflow-lang', 'en')")
        tab = context.new_page()
        _open_report(tab, live_api, who)
        seen[name] = _actions(tab)
        return tab

    page = as_(users.manager, "enterprise")
    _take(page, "submit", "submitted")
    shot(page, "reports-submitted")
    page.context.close()

    page = as_(users.auditor, "auditor")
    page.click("#report-verify")
    page.fill(".el-dialog .el-input-number input", "1200")
    page.fill("#verify-opinion", "Gas meters checked against invoices.")
    page.click("#verify-submit")
    page.wait_for_selector("#report-verifications .el-table__row")
    page.context.close()

    page = as_(users.government, "government")
    _take(page, "first_review", "first_reviewed")
    seen["government after first review"] = _actions(page)  # 终审 needs a second person
    page.context.close()

    page = as_(second_reviewer, "second government")
    _take(page, "final_review", "approved")
    page.wait_for_selector("#report-signed")
    events = page.eval_on_selector_all("#report-events [data-event]", "els => els.map(e => e.dataset.event)")
    shot(page, "reports-approved")
    page.click("#report-preview")  # the frozen snapshot's figures, then its PDF
    page.wait_for_selector("#preview-lines .el-table__row")
    previewed = float(page.get_attribute(".report-preview", "data-total") or "nan")
    preview_lines = page.locator("#preview-lines .el-table__body-wrapper .el-table__row").count()
    shot(page, "reports-preview")
    page.click(".el-dialog .el-tabs__item:has-text('PDF')")
    page.wait_for_selector("#report-pdf-frame")
    size = int(page.get_attribute("#report-pdf-frame", "data-size") or 0)
    shot(page, "reports-preview-pdf")
    page.context.close()

    flow = http.get(f"/api/v1/reports/{ENTERPRISE}/{FLOW_YEAR}/workflow", headers=manager).json()
    assert seen == {"enterprise": ["submit"], "auditor": ["verify"], "government": ["first_review", "return"],
                    "government after first review": ["return"], "second government": ["final_review", "return"]}
    assert (events, flow["state"], [v["verified_total_tco2"] for v in flow["verifications"]], size > 10_000) == (
        ["submit", "verify", "first_review", "final_review"], "approved", [1200.0], True)
    assert (previewed, preview_lines) == (flow["snapshots"][-1]["total_tco2"], len(lines))


def test_a_reviewer_returns_a_report_with_a_comment_the_enterprise_then_reads(
    browser: Any, web_app: Any, live_api: str, users: Users, http: httpx.Client
) -> None:
    year = FLOW_YEAR - 1
    manager = login(http, *users.manager)
    line = {"period": f"{year}-06", "site": SITE, "process": "auxiliary", "source_type": "heat", "item": "heat",
            "quantity": 900, "unit": "GJ", "direction": "in"}
    assert http.post(f"/api/v1/inventory/{ENTERPRISE}/activity", headers=manager,
                     json={"lines": [line]}).status_code == 201
    assert http.post(f"/api/v1/reports/{ENTERPRISE}/{year}/actions/submit", headers=manager, json={}).status_code == 200
    context = browser.new_context(viewport={"width": 1440, "height": 900}, timezone_id=TZ)
    context.add_init_script("localStorage.setItem('carbonflow-lang', 'en')")
    page = context.new_page()
    log_in(page, live_api, *users.government)
    page.goto(live_api + "/#/reports")
    page.fill("#reports-search", f"{ENTERPRISE}/{year}")  # the search: other tests' reports fill pages
    page.click(f".el-table__row:has([data-report='{ENTERPRISE}/{year}']) .open-report")
    page.click("#report-detail .action-return")
    page.click("#report-comment-submit")  # empty: the dialog asks for the comment
    page.wait_for_selector(".el-dialog .el-form-item__error")
    page.fill("#report-comment-comment", "Heat bought in June lacks the supplier's invoice.")
    page.click("#report-comment-submit")
    page.wait_for_selector("#report-detail[data-state='returned']")
    comment = page.inner_text("#report-events .el-table__row:last-child")
    shot(page, "reports-returned")
    context.close()
    assert "supplier's invoice" in comment


# a message key of these pages or an enum value as the API spells it, should one reach the screen
RAW = re.compile(r"\b(?:activity|reports|accountingNav|accountingTerm)\.[a-zA-Z]\w*|\b(?:first_reviewed|first_review"
                 r"|final_review|fixed_carbon|combustion|natural_gas|steelmaking_bof|measured|estimated|draft"
                 r"|submitted|returned|approved)\b")


@pytest.mark.parametrize("route", ["activity", "reports"])
def test_accounting_pages_fit_a_phones_width_in_chinese_with_no_raw_key(browser: Any, web_app: Any, live_api: str,
                                                                         users: Users, route: str) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, timezone_id=TZ)
    page = context.new_page()  # Chinese, the default
    log_in(page, live_api, *users.manager)
    page.goto(live_api + f"/#/{route}")
    page.wait_for_selector("#activity-versions" if route == "activity" else "#reports-table")
    if route == "reports" and page.locator(".open-report").count():
        page.locator(".open-report").first.click()  # the detail too: actions, history, snapshots
        page.wait_for_selector("#report-detail")
    width = page.evaluate("() => document.documentElement.scrollWidth")
    raw = RAW.findall(page.inner_text("#view"))
    shot(page, f"phone-{route}")
    context.close()
    assert (width, raw) == (390, [])
