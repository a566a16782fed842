"""What the Vue web app adds to the pages it ported, in headless Chromium: a menu by role (the five roles of
api/auth/access.py), Chinese by default with no raw key or enum value on screen, the series explorer's axis and point
picker, and every page usable at a phone's 390 px. Screenshots: tests/artifacts/web-*.png."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest

from api.auth.access import ROLE_PERMISSIONS
from tests.web.conftest import SITE, TZ, Users, plant_rates
from tests.web.ui import choice, choose, log_in, open_from_drawer, shot, value

Page = Any  # playwright.sync_api.Page
pytestmark = pytest.mark.timeout(900)
# what each page needs (web/src/router.js), checked here against the roles' permissions on the server
# every page in menu order: sections plant, accounting, government, admin (web/src/menugroups.js), then meta.order
PAGE_NEEDS = {
    "overview": {"emissions"},
    "bigscreen": {"emissions"},
    "series": {"series", "devices"},
    "devices": {"devices"},
    "alarms": {"alarms"},
    "emissions": {"emissions"},
    "factors": {"emissions"},
    "activity": {"activity_data"},
    "reports": {"emissions"},
    "enterprise-analysis": {"emissions"},
    "projects": {"projects"},
    "assets": {"assets"},
    "monitoring-regions": {"monitoring"},
    "monitoring-map": {"monitoring"},
    "monitoring-industries": {"monitoring"},
    "monitoring-units": {"monitoring"},
    "monitoring-anomalies": {"monitoring"},
    "monitoring-institutions": {"monitoring"},
    "monitoring-world": {"monitoring"},
    "monitoring-sync": {"monitoring_sync"},
    "public-institutions": {"monitoring"},
    "efficiency": {"efficiency_code_view", "efficiency_code_compute"},
    "carbon-account": {"efficiency_code_view"},
    "grid-factors": {"grid_factors"},
    "analysis": {"monitoring", "monitoring_review"},
    "targets": {"monitoring"},
    "reduction-potential": {"emissions"},
    "gateways": {"gateways"},
    "audit": {"audit"},
    "users": {"users"},
    "tokens": set(),
}
LONG_POINT = "blast_furnace_top_gas_recovery_turbine_inlet_temperature_degc"
# a message key or enum value as the code spells it, should one reach the screen
RAW = re.compile(r"\b(?:(?:common|overview|series|devices|nav|login|password|status|quality|term|role|kind|live|ago)"
                 r"\.[a-zA-Z]\w*|gauge|counter|power_plant|site|admin|technician|enterprise|government|auditor"
                 r"|online|offline|stale|never)\b")


@pytest.fixture
def context_of(browser: object, web_app: object) -> Iterator[Any]:
    """new(width, height) -> a page in a fresh context that has chosen no language; contexts closed at the end."""
    contexts: list[Any] = []

    def new(width: int = 1440, height: int = 900) -> Any:
        context = browser.new_context(viewport={"width": width, "height": height}, timezone_id=TZ,  # type: ignore[attr-defined]
                                      locale="en-US", device_scale_factor=1)
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield new
    for context in contexts:
        context.close()


@pytest.fixture(scope="module")
def named_devices(database_url: str, plant: str) -> None:
    """A power-plant generator, the works' site-wide PLC, and a device whose point has a long name."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        for device, process in (("w-pp-gen", "power_plant"), ("w-works-plc", "site"), ("w-trt", "ironmaking")):
            conn.execute("INSERT INTO devices (device_id, site_id, process, profile) VALUES (%s, %s, %s, 'cf-demo/x')"
                         " ON CONFLICT DO NOTHING", (device, SITE, process))
        for device, point, unit in (("w-pp-gen", "active_power_mw", "MW"), ("w-works-plc", "hot_metal_t", "t"),
                                    ("w-trt", LONG_POINT, "degC")):
            conn.execute("INSERT INTO points (device_id, point, unit, kind) VALUES (%s, %s, %s, 'gauge')"
                         " ON CONFLICT DO NOTHING", (device, point, unit))


def _users_by_role(users: Users) -> dict[str, tuple[str, str]]:
    return {"government": users.government, "enterprise": users.manager, "auditor": users.auditor,
            "technician": users.technician, "admin": users.admin}


def test_menu_shows_each_role_exactly_the_pages_its_permissions_allow(context_of: Any, live_api: str,
                                                                      users: Users) -> None:
    shown, expected, roles = {}, {}, {}
    for role, (name, password) in _users_by_role(users).items():
        page = context_of()
        log_in(page, live_api, name, password)
        page.wait_for_selector("#nav a[data-route]")
        shown[role] = page.eval_on_selector_all("#nav a[data-route]", "links => links.map(a => a.dataset.route)")
        roles[role] = (page.get_attribute("#who-role", "data-role"), page.inner_text("#who-role"))
        expected[role] = [p for p, needs in PAGE_NEEDS.items() if needs <= ROLE_PERMISSIONS[role]]
        if role == "technician":
            shot(page, "nav-technician-zh")
    assert shown == expected
    assert {role: text for role, (_, text) in roles.items()} == {
        "government": "政府监管", "enterprise": "企业用户", "auditor": "核查机构", "technician": "运维技术员",
        "admin": "系统管理员"}
    assert (shown["technician"], shown["admin"]) == (["series", "devices", "alarms", "gateways", "tokens"],
                                                     list(PAGE_NEEDS))


def test_a_page_the_role_may_not_use_leads_to_its_first_page(context_of: Any, live_api: str, users: Users) -> None:
    page = context_of()
    log_in(page, live_api, *users.technician)
    page.goto(live_api + "/#/overview")
    page.wait_for_url("**/#/series**")
    page.wait_for_selector("#series-device")
    assert page.locator("#kpi-co2").count() == 0


def test_app_opens_in_chinese_and_shows_no_raw_key_or_enum_value(context_of: Any, live_api: str, users: Users,
                                                                  named_devices: None) -> None:
    page = context_of()
    log_in(page, live_api, *users.technician)
    page.wait_for_selector("#series-status[data-kind]")
    texts = {"series": page.inner_text("#view")}
    page.click("#nav a[data-route='devices']")
    for device in ("w-pp-gen", "w-works-plc", "w-elec-main"):
        page.click(f"tr:has([data-device='{device}']) .el-table__expand-icon")
    page.wait_for_selector(".points-row")
    processes = {d: page.inner_text(f"tr:has([data-device='{d}']) .process") for d in ("w-pp-gen", "w-works-plc")}
    texts["devices"] = page.inner_text("#view")
    texts["menu"] = page.inner_text(".sidebar")
    shot(page, "devices-zh")
    manager = context_of()
    log_in(manager, live_api, *users.manager)
    manager.wait_for_selector("#chart-process canvas")
    manager.wait_for_selector("#table-compare")
    texts["overview"] = manager.inner_text("#view")
    # ids made by people (user names, sites, profiles: u-technician-1, api-site, cf-demo/x) are data, not keys
    raw = {name: sorted(set(RAW.findall(re.sub(r"\S*[-/]\S*", " ", text)))) for name, text in texts.items()}
    assert (page.get_attribute("html", "lang"), processes, raw) == (
        "zh-CN", {"w-pp-gen": "自备电厂", "w-works-plc": "全厂"}, {name: [] for name in texts})


def test_series_explorer_draws_a_counters_single_hour_on_an_axis_of_that_hour(page: Page, live_api: str,
                                                                             users: Users) -> None:
    log_in(page, live_api, *users.manager)
    page.goto(live_api + "/#/series?device=w-elec-main&point=energy_import_kwh&range=1h&interval=1h")
    page.wait_for_selector("#series-chart canvas")
    page.wait_for_selector(".chart-holder[data-x-start]:not([data-x-start=''])")
    start, end = (float(page.get_attribute(".chart-holder", f"data-x-{side}")) for side in ("start", "end"))
    shot(page, "series-counter-hour")
    assert (value(page, "#stat-count") <= 2, page.get_attribute("#series-status", "data-kind"),  # type: ignore[operator]
            round((end - start) / 1000)) == (True, "counter", 3600)


def _whole(page: Page, selector: str) -> dict[str, Any]:
    """Whether the element's text fits it (nothing cut off or hidden) and stays inside the viewport."""
    return page.eval_on_selector(selector, """el => {
        const box = el.getBoundingClientRect();
        return {fits: el.scrollWidth <= el.clientWidth + 1, inside: box.left >= 0 && box.right <= innerWidth + 1,
                text: el.textContent.trim()};
    }""")


def test_device_health_window_picked_is_asked_of_the_api_and_kept_in_the_address(page: Page, live_api: str,
                                                                                 users: Users) -> None:
    log_in(page, live_api, *users.technician)
    page.click("#nav a[data-route='devices']")
    page.wait_for_selector("#device-health")
    with page.expect_response(lambda r: "/api/v1/devices/health?hours=24" in r.url) as answer:
        choose(page, "#health-window", "24")
    page.wait_for_url("**/#/devices?hours=24")
    page.reload()  # the address brings the window back
    page.wait_for_selector("#device-health")
    assert (answer.value.status, choice(page, "#health-window")) == (200, "Last 24 h")


@pytest.fixture
def power_up_to_now(database_url: str, plant: str) -> None:
    """The seeded plant's two power meters read once a minute up to now: the session's seed ends when the session
    began, so late in a long run the overview's last hour would otherwise have thinned out."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        gateway, seq = conn.execute("SELECT g.gateway_key, COALESCE(max(r.seq), 0) FROM gateways g LEFT JOIN readings r"
                                    " USING (gateway_key) WHERE g.gateway_id = 'w-gw' GROUP BY 1").fetchone()  # type: ignore[misc]
        now = datetime.now(UTC)
        rows = []
        for device in ("w-elec-main", "w-elec-mill"):
            key, last = conn.execute("SELECT p.point_key, max(r.ts) FROM points p JOIN readings r USING (point_key)"
                                     " WHERE p.device_id = %s AND p.point = 'active_power_kw' GROUP BY 1",
                                     (device,)).fetchone()  # type: ignore[misc]
            ts = max(last, now - timedelta(hours=1)).replace(second=0, microsecond=0) + timedelta(minutes=1)
            while ts < now:
                seq += 1
                rows.append((gateway, seq, ts, key, plant_rates(int(ts.timestamp() // 60))[device, "active_power_kw"]))
                ts += timedelta(minutes=1)
        with conn.cursor() as cur:
            cur.executemany("INSERT INTO readings (gateway_key, seq, ts, point_key, value, quality)"
                            " VALUES (%s, %s, %s, %s, %s, 0)", rows)


@pytest.mark.usefixtures("power_up_to_now")
def test_overview_trend_opens_with_the_last_hour_of_power_by_minute(page: Page, live_api: str, users: Users) -> None:
    log_in(page, live_api, *users.manager)
    page.wait_for_selector(".chart-holder[data-seeded='true'] #chart-trend canvas")  # the hour follows the figures
    points = int(page.get_attribute(".chart-holder:has(#chart-trend)", "data-points"))  # type: ignore[arg-type]
    shot(page, "overview-trend")
    assert points >= 55  # a point a minute for the hour (the plant is seeded up to now), and the live total


@pytest.mark.parametrize("width", [1440, 390])
def test_point_picker_shows_a_long_point_name_whole(context_of: Any, live_api: str, users: Users,
                                                    named_devices: None, width: int) -> None:
    page = context_of(width, 844 if width < 500 else 900)
    page.add_init_script("localStorage.setItem('carbonflow-lang', 'en')")
    log_in(page, live_api, *users.technician)
    page.goto(live_api + f"/#/series?device=w-trt&point={LONG_POINT}&range=24h&interval=1m")
    page.wait_for_selector("#series-status[data-kind]")
    selected = _whole(page, ".point-field .el-select__placeholder")
    page.click(".el-select:has(#series-point) .el-select__wrapper")
    option = page.locator(f".el-select-dropdown__item:visible [data-value='{LONG_POINT}']")
    option.wait_for()
    listed = _whole(page, f".el-select-dropdown__item:visible:has([data-value='{LONG_POINT}'])")
    shot(page, f"series-long-point-{width}")
    page.keyboard.press("Escape")
    choose(page, "#series-point", LONG_POINT)  # picking it again is still possible
    whole = {"fits": True, "inside": True, "text": f"{LONG_POINT} (degC)"}
    assert (selected, listed) == (whole, whole)


def test_pages_are_usable_at_a_phones_width(context_of: Any, live_api: str, users: Users) -> None:
    page = context_of(390, 844)
    page.add_init_script("localStorage.setItem('carbonflow-lang', 'en')")
    log_in(page, live_api, *users.manager)
    page.wait_for_selector("#chart-process canvas")
    widths = {"overview": page.evaluate("() => document.documentElement.scrollWidth")}
    sidebar_hidden = page.is_hidden(".sidebar")
    shot(page, "phone-overview")
    for name in ("series", "devices"):
        open_from_drawer(page, name, "#series-chart canvas" if name == "series" else "#device-health")
        widths[name] = page.evaluate("() => document.documentElement.scrollWidth")
        shot(page, f"phone-{name}")
    page.click("tr:has([data-device='w-gas-boiler']) .el-table__expand-icon")  # the wide table scrolls in its card
    page.wait_for_selector(".points-row")
    widths["devices, unfolded"] = page.evaluate("() => document.documentElement.scrollWidth")
    assert (sidebar_hidden, widths) == (True, {name: 390 for name in widths})
