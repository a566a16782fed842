"""The web app's pages in a real headless Chromium against the API under uvicorn: log in through the page, read the
overview and check its figures against the API's JSON for the same query, explore a series, export CSV, switch
to Chinese, and look at device health. Screenshots: tests/artifacts/web-*.png."""

from __future__ import annotations

import base64
import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from api.auth import security
from tests.api.conftest import login
from tests.web.conftest import GRID, SITE, TZ, Users
from tests.web.ui import choose, log_in, shot, text_number, value
from tests.web.waiting import wait_until

Page = Any  # playwright.sync_api.Page; the module is imported only once Chromium is there
# the first test may wait for apt-get to install Chromium
pytestmark = pytest.mark.timeout(900)


def _wait_overview(page: Page) -> None:
    page.wait_for_selector("#kpi-co2[data-value]:not([data-value=''])")
    page.wait_for_selector("#live-pill.live")
    page.wait_for_selector("#chart-process canvas")


def _figures_on_page(page: Page) -> dict[str, Any]:
    # each row of a breakdown table: its key (data-process / data-source) and its tCO2 (the row's first data-value)
    read = "els => els.map(e => [e.dataset.{kind}, e.closest('tr').querySelector('.num[data-value]').dataset.value])"
    rows = {kind: {key: (None if raw in (None, "") else float(raw))
                   for key, raw in page.eval_on_selector_all(f"#table-{kind} .el-table__body [data-{kind}]",
                                                             read.format(kind=kind))}
            for kind in ("process", "source")}
    return {"power": value(page, "#kpi-power"), "co2": value(page, "#kpi-co2"),
            "production": value(page, "#kpi-production"), "intensity": value(page, "#kpi-intensity"),
            "benchmark": value(page, "#kpi-benchmark"), "vs": value(page, "#kpi-vs-benchmark"),
            "alarms": value(page, "#kpi-alarms"), **rows}


def _figures_of_api(body: dict[str, Any]) -> dict[str, Any]:
    return {"power": body["power"]["total_kw"], "co2": body["co2"]["total_tco2"],
            "production": body["intensity"]["production_t"], "intensity": body["intensity"]["value"],
            "benchmark": body["intensity"]["benchmark"]["tco2_per_t"], "vs": body["intensity"]["vs_benchmark_pct"],
            "alarms": len(body["alarms"]),
            "process": {p["process"] or "": p["tco2"] for p in body["co2"]["by_process"]},
            "source": {s["source"]: s["tco2"] for s in body["co2"]["by_source"]}}


def test_login_page_is_served_with_our_own_scripts_only(page: Page, live_api: str) -> None:
    response = page.goto(live_api + "/")
    page.wait_for_selector("#login")
    shot(page, "login")
    assert (response.status, "script-src 'self'" in response.headers["content-security-policy"],
            page.locator("#login-totp").count()) == (200, True, 0)


def test_overview_shows_the_apis_figures_and_follows_the_live_stream(
    page: Page, live_api: str, http: httpx.Client, users: Users, database_url: str
) -> None:
    log_in(page, live_api, *users.manager)
    page.wait_for_url("**/#/overview**")
    _wait_overview(page)
    body = http.get("/api/v1/overview", headers=login(http, *users.manager), params={"site": SITE, "tz": TZ}).json()
    shown, expected = _figures_on_page(page), _figures_of_api(body)
    text = (text_number(page, "#kpi-co2"), text_number(page, "#kpi-power"), text_number(page, "#kpi-intensity"))
    shot(page, "overview-en")
    assert (shown, text) == (expected, (round(expected["co2"], 3), round(expected["power"], 1),
                                        round(expected["intensity"], 3)))
    assert page.locator("#chart-process canvas").count() == 1

    # a new reading of the main meter reaches the page through the stream, as the API adds it up
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("INSERT INTO readings (gateway_key, seq, ts, point_key, value, quality)"
                     " SELECT g.gateway_key, 5000000, %s, p.point_key, 2468.4, 0 FROM gateways g, points p"
                     " WHERE g.gateway_id = 'w-gw' AND p.device_id = 'w-elec-main' AND p.point = 'active_power_kw'",
                     (datetime.now(UTC),))
    power = _power_counting(http, login(http, *users.manager), "w-elec-main", 2468.4)
    page.wait_for_function("(kw) => Number(document.querySelector('#kpi-power').dataset.value) === kw", arg=power)


def _power_counting(http: httpx.Client, headers: dict[str, str], device: str, kw: float) -> float:
    """The overview's total kW once the API counts `device` at `kw`: callers share an overview answer for a
    moment (CARBONFLOW_DASHBOARD_CACHE_S), so the first answer after a write may still be the one before it."""
    def counted() -> float | None:
        power = http.get("/api/v1/overview", headers=headers, params={"site": SITE, "tz": TZ}).json()["power"]
        return power["total_kw"] if any(p["device"] == device and p["value_kw"] == kw and p["counted"]
                                        for p in power["points"]) else None
    return wait_until(counted, f"the API's overview to count {device} at {kw} kW")


def test_two_step_login_asks_for_the_code_then_lets_in(page: Page, live_api: str, users: Users) -> None:
    name, password, secret = users.totp
    page.goto(live_api + "/")
    page.fill("#login-username", name)
    page.fill("#login-password", password)
    page.click("#login button[type=submit]")
    page.wait_for_selector("#login-totp-row")
    asked = page.inner_text("#login-message")
    shot(page, "login-totp")
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    page.fill("#login-totp", security.totp(key, time.time()))
    page.click("#login button[type=submit]")
    page.wait_for_selector("#shell")
    assert (asked, page.inner_text("#who-name")) == ("", name)


def test_a_refused_login_is_explained_in_chinese_first_with_the_apis_own_words_kept(
    page: Page, live_api: str, http: httpx.Client, users: Users
) -> None:
    name = users.manager[0]
    refused = http.post("/api/v1/auth/login", json={"username": name, "password": "not-the-password-1A!"})
    said = refused.json()["detail"]
    shown = {}
    for lang in ("zh-CN", "en"):
        page.goto(live_api + "/")
        page.evaluate(f"localStorage.setItem('carbonflow-lang', '{lang}')")
        page.reload()
        page.fill("#login-username", name)
        page.fill("#login-password", "not-the-password-1A!")
        page.click("#login button[type=submit]")
        page.locator("#login-message").filter(has_text=re.compile(r"\S")).wait_for()
        shown[lang] = page.inner_text("#login-message")
    page.evaluate("localStorage.removeItem('carbonflow-lang')")
    assert (refused.status_code, shown) == (401, {"zh-CN": f"身份验证未通过：{said}", "en": said})


def test_series_explorer_draws_a_chart_and_exports_csv_with_factor_versions(
    page: Page, live_api: str, users: Users
) -> None:
    log_in(page, live_api, *users.manager)
    page.goto(live_api + "/#/series?device=w-elec-main&point=energy_import_kwh&range=6h&interval=1h")
    page.wait_for_selector("#series-chart canvas")
    page.wait_for_selector("#series-status[data-kind='counter']")
    counter = page.inner_text("#series-status")
    choose(page, "#series-point", "active_power_kw")
    page.click("#series-range button[data-value='1h']")
    page.wait_for_function("() => document.querySelector('#series-interval button.on').dataset.value === 'raw'")
    page.wait_for_selector("#series-chart canvas")
    page.wait_for_function("() => Number(document.querySelector('#stat-count').dataset.value) > 30")
    shot(page, "series")
    choose(page, "#series-point", "energy_import_kwh")
    page.wait_for_selector("#series-status[data-kind='counter']")
    page.wait_for_selector("#series-chart canvas")
    with page.expect_download() as download:
        page.click("#export-csv")
    csv_text = Path(download.value.path()).read_text(encoding="utf-8")
    assert (counter.startswith("Cumulative"), download.value.suggested_filename,
            f"# factor versions: {GRID}" in csv_text,
            csv_text.splitlines()[csv_text.count("\n# ") + 1].startswith("bucket_start,value")) == (
        True, "carbonflow-w-elec-main-energy_import_kwh-1h.csv", True, True)


def test_switching_to_chinese_relabels_the_overview_and_keeps_its_figures(
    page: Page, live_api: str, http: httpx.Client, users: Users
) -> None:
    log_in(page, live_api, *users.manager)
    _wait_overview(page)
    before = _figures_on_page(page)
    page.click(".sidebar [data-lang-switch]")
    page.wait_for_selector("html[lang='zh-CN']")
    _wait_overview(page)
    labels = (page.inner_text("#nav a[data-route='overview']"), page.inner_text("#kpi-co2-card .label"),
              page.inner_text("#table-source tr:has([data-source='electricity']) td"))
    shot(page, "overview-zh")
    page.goto(live_api + "/#/series?device=w-gas-mill&point=flow_nm3h&range=24h&interval=1m")
    page.wait_for_selector("#series-chart canvas")
    shot(page, "series-zh")
    page.reload()  # the choice is remembered
    page.wait_for_selector("#shell")
    remembered = page.inner_text("#nav a[data-route='series']")
    page.click(".sidebar [data-lang-switch]")
    page.wait_for_selector("html[lang='en']")
    assert (labels, _figures_on_page_after(page, live_api, before), remembered) == (
        ("工厂总览", "今日 CO₂ 排放", "外购电力"), True, "数据查询")


def _figures_on_page_after(page: Page, base: str, before: dict[str, Any]) -> bool:
    page.goto(base + "/#/overview")
    _wait_overview(page)
    after = _figures_on_page(page)
    return {k: v for k, v in after.items() if k != "power"} == {k: v for k, v in before.items() if k != "power"}


def test_device_health_shows_every_device_with_status_and_quality_counts(
    page: Page, live_api: str, http: httpx.Client, users: Users, database_url: str
) -> None:
    # the plant's devices (but its stack monitor) heard from just now: online for the next minute, whenever this
    # test runs after the seeding, so that the page's answer and the API's a moment later agree on every status
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("UPDATE devices SET last_seen = now() WHERE site_id = %s AND device_id <> 'w-cems'", (SITE,))
    log_in(page, live_api, *users.technician)
    page.wait_for_url("**/#/series**")  # a technician has no overview (no emissions): the first page it may see
    assert page.locator("#nav a[data-route='overview']").count() == 0
    page.goto(live_api + "/#/devices")
    page.wait_for_selector("#device-health", timeout=60_000)  # every device of the shared test database
    page.click("tr:has([data-device='w-gas-boiler']) .el-table__expand-icon")
    page.wait_for_selector(".points-row")
    body = http.get("/api/v1/devices/health", headers=login(http, *users.technician), params={"hours": 1}).json()
    ours = {d["device_id"]: d for d in body["devices"] if d["site_id"] == SITE}
    shown = {device: (page.get_attribute(f"[data-device='{device}']", "data-status"),
                      value(page, f"tr:has([data-device='{device}']) [data-quality='bad'] b"))
             for device in ours}
    shot(page, "devices")
    assert shown == {device: (d["status"], float(d["quality"]["bad"])) for device, d in ours.items()}
    assert (shown["w-cems"][0], shown["w-elec-main"][0]) == ("offline", "online")


def test_device_health_shows_each_gateways_spool_backlog_and_drops(
    page: Page, live_api: str, http: httpx.Client, users: Users, database_url: str
) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO gateway_health (gateway_id, state, state_since, reported_at, last_seen, interval_s,"
            " agent_version, spool_depth, spool_bytes, oldest_unsent_age_s, dropped_total)"
            " VALUES ('w-gw', 'online', now() - interval '1 hour', now(), now(), 30, '0.1.0', 321, 1284, 4.5, 7)"
            " ON CONFLICT (gateway_id) DO UPDATE SET state = 'online', last_seen = now(), spool_depth = 321,"
            " oldest_unsent_age_s = 4.5, dropped_total = 7")
    log_in(page, live_api, *users.technician)
    page.wait_for_url("**/#/series**")
    page.click("#nav a[data-route='devices']")
    row = "#gateway-health tr:has([data-gateway='w-gw'])"
    page.wait_for_selector(row, timeout=60_000)
    body = http.get("/api/v1/devices/health", headers=login(http, *users.technician)).json()
    api = next(g for g in body["gateways"] if g["gateway_id"] == "w-gw")
    shown = (page.get_attribute("#gateway-health [data-gateway='w-gw']", "data-status"),
             value(page, f"{row} [data-field='backlog']"),
             value(page, f"{row} [data-field='oldest']"), value(page, f"{row} [data-field='dropped']"))
    shot(page, "gateways")
    assert shown == (api["status"], float(api["spool_backlog"]), api["oldest_unsent_age_s"],
                     float(api["dropped_total"])) == ("online", 321.0, 4.5, 7.0)


def test_a_view_still_loading_when_the_address_moves_on_does_not_take_the_address_back(
    page: Page, live_api: str, users: Users
) -> None:
    """A click on another page while the series explorer waits for its devices: the router starts the move at
    once, but the next page's code may still be loading. The explorer's answer may land in between (a loaded
    machine, a slow answer); it must not write its own address over the new one, which would cancel the move and
    lose the click. Holding the device list and the next page's code makes that gap happen every time."""
    held: list[Any] = []
    held_page: list[Any] = []
    page.route("**/api/v1/devices", lambda route: held.append(route))  # the explorer's devices, answered below
    page.route("**/assets/DeviceHealthView-*.js", lambda route: held_page.append(route))
    log_in(page, live_api, *users.technician)
    page.wait_for_url("**/#/series**")
    wait_until(lambda: held, "the series explorer to ask for its devices", poll=lambda: page.wait_for_timeout(50))
    page.click("#nav a[data-route='devices']")
    wait_until(lambda: held_page, "the device health page's code to be asked for",
               poll=lambda: page.wait_for_timeout(50))
    held[0].continue_()
    page.wait_for_selector("#series-device")  # drawn from the answer, and its first query started
    page.wait_for_timeout(300)  # the query's answer, and anything it would write, lands meanwhile
    held_page[0].continue_()
    page.wait_for_selector("#gateway-health, #device-health")
    assert (page.evaluate("() => location.hash").split("?")[0], page.get_attribute("#nav a.active", "data-route")) == (
        "#/devices", "devices")


def test_series_page_without_charts_falls_back_to_a_table(page: Page, live_api: str, users: Users) -> None:
    page.route("**/assets/charts-*.js", lambda route: route.fulfill(status=404, body="missing"))
    log_in(page, live_api, *users.manager)
    page.goto(live_api + "/#/series?device=w-elec-main&point=active_power_kw&range=1h&interval=1m")
    page.wait_for_selector("#series-table")
    assert (page.locator("canvas").count(), page.is_visible(".notice.info")) == (0, True)


def test_series_explorer_shows_calendar_months_equal_to_the_apis(
    page: Page, live_api: str, http: httpx.Client, users: Users, database_url: str
) -> None:
    end = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    # two hours of earlier months, as the stream job would have rolled them up
    hours = [(end - timedelta(days=40), 12, 6000.0, 480.0, 520.0), (end - timedelta(days=100), 6, 2700.0, 430.0, 470.0)]
    with psycopg.connect(database_url, autocommit=True) as conn:
        key = conn.execute("SELECT point_key FROM points WHERE device_id = 'w-elec-main' AND point = 'active_power_kw'"
                           ).fetchone()[0]  # type: ignore[index]
        for hour, n, total, lo, hi in hours:
            conn.execute("INSERT INTO rollup_1h (point_key, bucket, n, n_valid, sum, min, max, first_ts, first_value,"
                         " last_ts, last_value, worst_quality) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, 0)"
                         " ON CONFLICT DO NOTHING",
                         (key, hour, n, n, total, lo, hi, hour, lo, hour + timedelta(minutes=55), hi))
    log_in(page, live_api, *users.manager)
    start = end - timedelta(days=365)
    query = {"device": "w-elec-main", "point": "active_power_kw", "start": start.isoformat().replace("+00:00", "Z"),
             "end": end.isoformat().replace("+00:00", "Z"), "interval": "1mo"}
    page.goto(live_api + "/#/series?" + "&".join(f"{k}={v}" for k, v in {**query, "range": "custom"}.items()))
    page.wait_for_selector("#series-chart canvas")
    page.wait_for_selector("#series-interval button.on[data-value='1mo']")
    api = http.get("/api/v1/series", params={**query, "tz": TZ}, headers=login(http, *users.manager)).json()
    row = "#series-table .el-table__body tr.el-table__row:nth-child({n})"
    rows = page.locator("#series-table .el-table__body tr.el-table__row").count()
    shown = [(value(page, f"{row.format(n=i + 1)} [data-field='value']"),
              value(page, f"{row.format(n=i + 1)} [data-field='count']")) for i in range(rows)]
    shot(page, "series-months")
    months = [(m["value"], float(m["count"])) for m in reversed(api["points"]) if m["value"] is not None]
    assert (api["interval"], len(months) >= 2, shown) == ("1mo", True, months)


def test_overview_opens_on_the_sites_default_site(page: Page, live_api: str, users: Users, database_url: str) -> None:
    """The running demo names its scenario's site (GET /sites `default_site`): an administrator, who sees every
    site, lands on it rather than on the first in the list (here a stale site left by another scenario)."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("INSERT INTO sites (site_id, enterprise_id, name) VALUES ('a-stale-works', 'w-ent',"
                     " 'Stale works') ON CONFLICT DO NOTHING")

    def with_default(route: Any) -> None:
        answer = route.fetch()
        route.fulfill(response=answer, json={**answer.json(), "default_site": SITE})

    page.route("**/api/v1/sites", with_default)
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url) if "/api/v1/overview?" in request.url else None)
    try:
        log_in(page, live_api, *users.admin)
        page.wait_for_url("**/#/overview**")
        _wait_overview(page)
        shot(page, "overview-default-site")
    finally:  # the stale site would come first for every later test that opens the plant's enterprise
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute("DELETE FROM sites WHERE site_id = 'a-stale-works'")
    assert asked and all(f"site={SITE}" in url for url in asked)
