"""Enterprise-group targets on the carbon targets page (#/targets) in a real headless Chromium against the API
under uvicorn: a government user chooses "Enterprise group" as the target's holder, picks a steel group from the
group picker, allocates a total to its member enterprises, previews the allocation (member names on screen, the
parts summing to the total as the API says) and issues it; a member works then sees only its own allocation.
Screenshots: tests/artifacts/web-targets-group-*.png."""

from __future__ import annotations

import uuid
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

CITY = "330200"  # 宁波市, inside the government user's CN-ZJ


@pytest.fixture(scope="module")
def steel_group(live_api: str, users: Users, database_url: str) -> dict[str, Any]:
    """Two works of a steel group in Ningbo with 2025 monthly figures (works A burns twice works B's coal), and
    the group registered by an administrator."""
    tag = uuid.uuid4().hex[:6]
    works = {"a": f"w-gt-a-{tag}", "b": f"w-gt-b-{tag}"}
    codes = {"a": credit_code(CITY), "b": credit_code(CITY)}
    lines = ["credit_code,unit_name,region_code,industry_code,month,item,quantity,unit"]
    for month in [f"2025-{m:02d}" for m in range(1, 13)] + ["2026-01", "2026-02"]:
        lines += [f"{codes['a']},SX Works A {tag},{CITY},313,{month},coal,100,t",
                  f"{codes['a']},SX Works A {tag},{CITY},313,{month},value_added,1000,万元",
                  f"{codes['b']},SX Works B {tag},{CITY},313,{month},coal,50,t",
                  f"{codes['b']},SX Works B {tag},{CITY},313,{month},value_added,600,万元"]
    with httpx.Client(base_url=live_api, timeout=60) as http:
        admin = login(http, *users.admin)
        r = http.post("/api/v1/monitoring/imports", headers=admin,
                      files={"file": ("figures.csv", ("\n".join(lines) + "\n").encode(), "text/csv")},
                      data={"take_valid": "false"})
        assert r.status_code == 200, r.text
        with psycopg.connect(database_url, autocommit=True) as conn:
            for key, eid in works.items():
                conn.execute("INSERT INTO enterprises (enterprise_id, name, region) VALUES (%s, %s, 'CN-ZJ')"
                             " ON CONFLICT DO NOTHING", (eid, f"Shaoxing Works {key.upper()} {tag}"))
                conn.execute("UPDATE monitoring_units SET enterprise_id = %s WHERE credit_code = %s",
                             (eid, codes[key]))
        r = http.post("/api/v1/groups", headers=admin, json={"name": f"Shaoxing Steel Group {tag}",
                                                             "members": list(works.values())})
        assert r.status_code == 201, r.text
    return {"group": r.json(), "works": works, "tag": tag, "admin": admin}


def _pick_year(page: Page, picker: str, year: str) -> None:
    page.fill(picker, year)
    page.press(picker, "Enter")


def test_government_user_sets_and_issues_a_group_target_to_member_enterprises(
        page: Page, live_api: str, users: Users, steel_group: dict[str, Any], http: httpx.Client) -> None:
    group, tag = steel_group["group"], steel_group["tag"]
    name = f"Shaoxing group cap {tag}"
    log_in(page, live_api, *users.government)
    page.goto(live_api + "/#/targets")
    page.click("#target-new")
    page.wait_for_selector("#target-form")
    page.click("#target-holder-kind label:has-text('Enterprise group')")
    choose(page, "#target-group", str(group["group_id"]))
    page.click(".el-select:has(#target-level) .el-select__wrapper")
    page.locator(".el-select-dropdown__item:visible:has-text('member enterprises')").click()
    page.fill("#target-name", name)
    _pick_year(page, "#target-year", "2026")
    _pick_year(page, "#target-base-year", "2025")
    page.fill("#target-value", "900")
    page.click("#target-preview")
    page.wait_for_selector("#target-detail[data-state='draft']")
    gov = login(http, *users.government)
    listed = [t for t in http.get("/api/v1/analysis/targets", headers=gov,
                                  params={"group_id": group["group_id"]}).json()["targets"] if t["name"] == name]
    target = http.get(f"/api/v1/analysis/targets/{listed[-1]['target_id']}", headers=gov).json()
    rows = page.locator("#target-allocations .el-table__body .el-table__row")
    text = page.inner_text("#target-allocations")
    # works A burnt twice works B's coal in the base year: at an equal rate it keeps two thirds of the cap
    shares = {a["holder"]: a["target"] / 900 for a in target["allocations"]}
    assert (rows.count(), f"Shaoxing Works A {tag}" in text, f"Shaoxing Works B {tag}" in text,
            round(sum(a["target"] for a in target["allocations"]), 6), target["group_id"],
            round(shares[steel_group["works"]["a"]], 6)) == (2, True, True, 900, group["group_id"], round(2 / 3, 6))
    row = page.locator(f"#target-list a[data-target='{target['target_id']}']").locator("xpath=ancestor::tr")
    assert f"Group: {group['name']}" in row.inner_text()
    shot(page, "targets-group-preview-en")

    page.click("#target-issue")
    page.wait_for_selector("#target-detail[data-state='issued']")
    page.click("#target-tabs .el-tabs__item:has-text('Monthly tracking')")
    page.wait_for_selector("#track-chart canvas, #track-chart svg")
    shot(page, "targets-group-tracking-en")


def test_a_member_works_sees_only_its_own_part_of_the_group_target(
        page: Page, live_api: str, users: Users, steel_group: dict[str, Any], http: httpx.Client) -> None:
    gov = login(http, *users.government)
    r = http.post("/api/v1/analysis/targets", headers=gov, json={
        "group_id": steel_group["group"]["group_id"], "name": f"group intensity {steel_group['tag']}",
        "kind": "intensity", "year": 2026, "base_year": 2025, "value": 0.04, "holder_level": "enterprise"})
    assert r.status_code == 201, r.text
    tid = r.json()["target_id"]
    assert http.post(f"/api/v1/analysis/targets/{tid}/issue", headers=gov).status_code == 200
    name, password, _ = make_user(http, steel_group["admin"], "enterprise",  # type: ignore[arg-type]
                                  enterprise_id=steel_group["works"]["b"])
    log_in(page, live_api, name, password)
    page.goto(live_api + f"/#/targets?target={tid}")
    page.wait_for_selector("#target-detail[data-state='issued']")
    rows = page.locator("#target-allocations .el-table__body .el-table__row")
    assert (rows.count(), f"Shaoxing Works B {steel_group['tag']}" in rows.first.inner_text(),
            page.locator("#target-new, #target-issue").count()) == (1, True, 0)
    shot(page, "targets-group-member-en")
