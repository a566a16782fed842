"""The project detail's tabs (#/projects?id=) in a real headless Chromium against the API under uvicorn: metering
(bound counters with their newest reading and quality; the owner binds one of its own counters and unbinds it),
settled electricity fees (the API's months, kWh, yuan and unit price; a month recorded by form; a CSV import whose
bad line is listed by number while the good one is kept; a refused file shows the API's message) and, for a 两高
project, approved vs actual energy and CO2 with the warning when the actual exceeds the approved figure (in Chinese
too), and its actuals computed from a bound meter by the button. Screenshots: tests/artifacts/web-project-*.png."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from tests.api.conftest import login, make_user
from tests.web.test_projects_pages_web import ENTERPRISE, owner  # noqa: F401  # the fixture, shared
from tests.web.ui import choose, log_in, shot, value

Page = Any  # playwright.sync_api.Page
pytestmark = pytest.mark.timeout(900)

METER = "wpp-meter"  # a meter of these tests only, on the owner's site: its export counter has a reading
READ_AT = datetime(2025, 4, 2, 3, 15, tzinfo=UTC)
PROJECTS = "/api/v1/projects"


@pytest.fixture(scope="module")
def meter(database_url: str, owner: dict[str, Any]) -> None:  # noqa: F811
    with psycopg.connect(database_url, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM devices WHERE device_id = %s", (METER,)).fetchone() is not None:
            return
        with conn.transaction():
            conn.execute("INSERT INTO devices (device_id, site_id, process) VALUES (%s, 'wpj-site', 'pv')", (METER,))
            key = conn.execute("INSERT INTO points (device_id, point, unit, kind) VALUES (%s, 'export_kwh', 'kWh',"
                               " 'counter') RETURNING point_key", (METER,)).fetchone()[0]  # type: ignore[index]
            conn.execute("INSERT INTO points (device_id, point, unit, kind) VALUES (%s, 'import_kwh', 'kWh',"
                         " 'counter')", (METER,))
            conn.execute("INSERT INTO readings (gateway_key, seq, ts, point_key, value, quality)"
                         " VALUES (0, 9200001, %s, %s, 48210.75, 1)", (READ_AT, key))


def _project(http: httpx.Client, headers: dict[str, str], kind: str) -> int:
    r = http.post(PROJECTS, headers=headers, json={"enterprise_id": ENTERPRISE, "name": f"{kind} {uuid.uuid4().hex[:6]}",
                                                   "kind": kind, "grid_region": "east", "budget": 1000})
    assert r.status_code == 201, r.text
    return int(r.json()["project_id"])


def _open(page: Page, live_api: str, project_id: int) -> None:
    page.goto(f"{live_api}/#/projects?id={project_id}")
    page.wait_for_selector("#project-tabs")


def test_the_owner_binds_a_counter_sees_its_newest_reading_and_quality_and_unbinds_it(
        page: Page, browser: Any, live_api: str, owner: dict[str, Any], meter: None, http: httpx.Client,  # noqa: F811
        api_app_client: Any, admin_headers: dict[str, str]) -> None:
    manager = login(http, *owner["manager"])
    project_id = _project(http, manager, "grid_pv")
    log_in(page, live_api, *owner["manager"])
    _open(page, live_api, project_id)
    choose(page, "#bind-device", METER)
    choose(page, "#bind-point", "export_kwh")
    choose(page, "#bind-role", "export")
    page.click("#bind-submit")
    page.wait_for_selector("#metering-done")
    row = page.locator("#project-points .el-table__row", has=page.locator(f"[data-point='{METER}/export_kwh']"))
    row.wait_for()
    [bound] = http.get(f"{PROJECTS}/{project_id}/points", headers=manager).json()["points"]
    assert (bound["device_id"], bound["point"], bound["role"]) == (METER, "export_kwh", "export")
    assert float(row.locator("b.last").get_attribute("data-value")) == bound["last_value"] == 48210.75
    assert row.locator("[data-quality]").get_attribute("data-quality") == bound["last_quality"] == "uncertain"
    assert row.locator("[data-role]").get_attribute("data-role") == "export"
    shot(page, "project-metering-en")

    # a government user of the owner's region reads the same, without the owner's controls
    government = make_user(api_app_client, admin_headers, "government", region="CN-SH")
    context = browser.new_context(locale="en-US")
    try:
        reader = context.new_page()
        log_in(reader, live_api, *government[:2])
        _open(reader, live_api, project_id)
        seen = reader.locator("#project-points .el-table__row", has=reader.locator(f"[data-point='{METER}/export_kwh']"))
        seen.wait_for()
        assert seen.locator("[data-quality]").get_attribute("data-quality") == "uncertain"
        assert reader.locator("#bind-form, #project-points button.unbind").count() == 0
    finally:
        context.close()

    row.locator("button.unbind").click()
    page.wait_for_selector(f"#project-points [data-point='{METER}/export_kwh']", state="detached")
    assert http.get(f"{PROJECTS}/{project_id}/points", headers=manager).json()["points"] == []
    assert "unbound" in page.inner_text("#metering-done")


def test_settled_fees_show_the_apis_figures_record_a_month_and_import_keeping_the_good_lines(
        page: Page, live_api: str, owner: dict[str, Any], http: httpx.Client, tmp_path: Path) -> None:  # noqa: F811
    manager = login(http, *owner["manager"])
    project_id = _project(http, manager, "grid_pv")
    url = f"{PROJECTS}/{project_id}/fees"
    for month, mwh, yuan in (("2025-01", 212.15, 84860), ("2025-02", 198.4, 79360.5)):
        assert http.put(f"{url}/{month}", headers=manager, json={"energy_mwh": mwh, "amount_yuan": yuan}).status_code == 200
    log_in(page, live_api, *owner["manager"])
    _open(page, live_api, project_id)
    page.click("#tab-fees")
    page.wait_for_selector("#fees-table .el-table__row")

    def shown() -> dict[str, tuple[float | None, ...]]:
        out = {}
        for row in page.locator("#fees-table .el-table__row").all():
            month = row.locator("[data-month]").get_attribute("data-month")
            out[month] = tuple(float(row.locator(f".{c}").get_attribute("data-value") or "nan")
                               for c in ("kwh", "yuan", "price"))
        return out

    def from_api() -> dict[str, tuple[float | None, ...]]:
        return {f["month"]: (f["energy_kwh"], f["amount_yuan"], f["unit_price_yuan_per_kwh"])
                for f in http.get(url, headers=manager).json()["fees"]}

    assert shown() == from_api() and len(shown()) == 2  # data-value carries the exact figure
    assert page.locator("#fees-chart canvas").count() == 1

    page.fill("#fee-month", "2025-03")
    page.keyboard.press("Enter")
    page.fill("#fee-kwh", "150000")
    page.fill("#fee-yuan", "61500.25")
    page.click("#fee-kwh")  # leave the number input so that its value is taken
    page.click("#fee-submit")
    page.wait_for_selector("#fees-table [data-month='2025-03']")
    assert from_api()["2025-03"] == pytest.approx((150000, 61500.25, 61500.25 / 150000))
    assert shown() == from_api()

    bills = tmp_path / "bills.csv"
    bills.write_text("month,energy_kwh,amount_yuan\n2025-04,120000,49200\n2025-05,lots,1\n", encoding="utf-8")
    page.set_input_files("#fees-file", str(bills))
    page.wait_for_selector("#fees-refused li[data-line='3']")
    assert "not a number" in page.inner_text("#fees-refused li[data-line='3']")
    page.wait_for_selector("#fees-table [data-month='2025-04']")
    assert set(from_api()) == {"2025-01", "2025-02", "2025-03", "2025-04"}  # the good line kept, the bad one not
    assert shown() == from_api()
    shot(page, "project-fees-en")

    wrong = tmp_path / "wrong.csv"
    wrong.write_text("month,kwh,yuan\n2025-06,1,1\n", encoding="utf-8")
    refused = http.post(f"{url}/import", headers=manager, files={"file": ("wrong.csv", wrong.read_bytes())})
    assert refused.status_code == 422
    page.set_input_files("#fees-file", str(wrong))
    page.wait_for_selector("#fees-error")
    assert refused.json()["detail"] in page.inner_text("#fees-error")


def test_a_two_high_project_warns_when_the_actual_exceeds_the_approved_figure(
        page: Page, browser: Any, web_app: object, live_api: str, owner: dict[str, Any],  # noqa: F811
        http: httpx.Client) -> None:
    manager = login(http, *owner["manager"])
    project_id = _project(http, manager, "two_high")
    url = f"{PROJECTS}/{project_id}/two-high"
    assert http.put(f"{url}/2025", headers=manager,
                    json={"approved_tce": 1000, "approved_tco2": 2500}).status_code == 200
    log_in(page, live_api, *owner["manager"])
    _open(page, live_api, project_id)
    page.click("#tab-twohigh")
    page.wait_for_selector("#two-high-table [data-year='2025']")
    assert page.locator("#two-high-warning").count() == 0
    assert page.get_attribute("#two-high-table [data-status]", "data-status") == "within"

    page.fill("#two-high-year", "2025")
    page.fill("#two-high-actual_tce", "1100")
    page.fill("#two-high-actual_tco2", "2400")
    page.click("#two-high-year")
    choose(page, "#two-high-source", "meters")
    page.click("#two-high-submit")
    page.wait_for_selector("#two-high-warning li[data-year='2025']")
    [year] = http.get(url, headers=manager).json()["years"]
    assert (year["actual_tce"], year["actual_tco2"], year["actual_source"]) == (1100, 2400, "meters")
    assert year["warnings"] == ["actual energy 1100 tce exceeds the approved 1000 tce (10.0% over)"]
    assert year["warnings"][0] in page.inner_text("#two-high-warning")
    assert page.get_attribute("#two-high-table [data-status]", "data-status") == "over"
    for figure in ("approved_tce", "actual_tce", "approved_tco2", "actual_tco2"):
        assert value(page, f"#two-high-table [data-figure='{figure}']") == year[figure]
    assert page.locator("#two-high-chart canvas").count() == 1
    shot(page, "project-two-high-en")

    page.reload()  # a fresh form: actual figures without their source are refused, with the API's message
    page.click("#tab-twohigh")
    page.fill("#two-high-year", "2026")
    page.fill("#two-high-actual_tce", "900")
    page.click("#two-high-year")
    page.click("#two-high-submit")
    page.wait_for_selector("#two-high-error")
    refused = http.put(f"{url}/2026", headers=manager, json={"actual_tce": 900})
    assert refused.status_code == 422 and "actual_source" in page.inner_text("#two-high-error")
    assert [y["year"] for y in http.get(url, headers=manager).json()["years"]] == [2025]

    context = browser.new_context(locale="zh-CN")
    try:
        zh = context.new_page()
        log_in(zh, live_api, *owner["manager"])
        _open(zh, live_api, project_id)
        assert zh.inner_text("#tab-twohigh") == "两高：批复与实际"
        zh.click("#tab-twohigh")
        zh.wait_for_selector("#two-high-warning li[data-year='2025']")
        assert "能耗超出批复量" in zh.inner_text("#two-high-warning li[data-year='2025']")
        assert zh.inner_text("#two-high-table [data-status='over']").strip() == "超出批复"
        shot(zh, "project-two-high-zh")
    finally:
        context.close()


KILN = "wpp-kiln"  # a kiln meter of these tests only: its import counter rose 50 MWh in February 2025


def test_a_two_high_projects_actuals_are_computed_from_its_bound_meter_and_shown_over_the_approval(
        page: Page, web_app: object, live_api: str, owner: dict[str, Any], database_url: str,  # noqa: F811
        http: httpx.Client) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM devices WHERE device_id = %s", (KILN,)).fetchone() is None:
            conn.execute("INSERT INTO devices (device_id, site_id, process) VALUES (%s, 'wpj-site', 'kiln')", (KILN,))
            key = conn.execute("INSERT INTO points (device_id, point, unit, kind) VALUES (%s, 'import_kwh', 'kWh',"
                               " 'counter') RETURNING point_key", (KILN,)).fetchone()[0]  # type: ignore[index]
            for hour, first, last in ((datetime(2025, 1, 31, 10, tzinfo=UTC), 1000.0, 1000.0),
                                      (datetime(2025, 2, 10, 0, tzinfo=UTC), 1000.0, 51000.0)):
                conn.execute(
                    "INSERT INTO rollup_1h (point_key, bucket, n, n_valid, sum, min, max, first_ts, first_value,"
                    " last_ts, last_value, worst_quality, n_uncertain, n_bad) VALUES (%s, %s, 2, 2, %s, %s, %s,"
                    " %s, %s, %s, %s, 0, 0, 0)",
                    (key, hour, first + last, first, last, hour.replace(minute=1), first, hour.replace(minute=59),
                     last))
    manager = login(http, *owner["manager"])
    project_id = _project(http, manager, "two_high")
    url = f"{PROJECTS}/{project_id}"
    assert http.put(f"{url}/points", headers=manager,
                    json={"device_id": KILN, "point": "import_kwh", "role": "import"}).status_code == 200
    assert http.put(f"{url}/two-high/2025", headers=manager, json={"approved_tce": 5}).status_code == 200
    log_in(page, live_api, *owner["manager"])
    _open(page, live_api, project_id)
    page.click("#tab-twohigh")
    page.wait_for_selector("#two-high-table [data-year='2025']")

    page.fill("#two-high-year", "2025")
    page.click("#two-high-from-meters")
    page.wait_for_selector("#two-high-warning li[data-year='2025']")

    [year] = http.get(f"{url}/two-high", headers=manager).json()["years"]
    assert (year["actual_source"], year["actual_tce"]) == ("meters", pytest.approx(50 * 0.1229))  # GB/T 2589
    assert "computed from the bound meters: 6.145 tce" in page.inner_text("#two-high-done")
    assert value(page, "#two-high-table [data-figure='actual_tce']") == pytest.approx(year["actual_tce"])
    assert page.inner_text("#two-high-table .el-table__row").count("Meters") == 1
    assert page.get_attribute("#two-high-table [data-status]", "data-status") == "over"
