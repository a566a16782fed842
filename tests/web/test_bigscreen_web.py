"""The plant's big screen (大屏) in headless Chromium at 1920x1080, as the energy manager who puts it on the wall:
reached from the menu, shown without the menu, with the overview's figures and today's hourly CO2 as the API
gives them, refreshing itself when an alarm is raised. Screenshots: tests/artifacts/web-bigscreen-*.png."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import psycopg
import pytest

from tests.api.conftest import login
from tests.web.conftest import SITE, TZ, Users
from tests.web.ui import log_in, shot, value
from tests.web.waiting import wait_until

Page = Any  # playwright.sync_api.Page
pytestmark = pytest.mark.timeout(900)
WALL = {"width": 1920, "height": 1080}


def _overview(http: httpx.Client, username: str, password: str) -> dict[str, Any]:
    r = http.get("/api/v1/overview", params={"site": SITE, "tz": TZ}, headers=login(http, username, password))
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def _open_big_screen(page: Page, live_api: str, users: Users, via: str = "#nav a[data-route='bigscreen']") -> None:
    page.set_viewport_size(WALL)
    log_in(page, live_api, *users.manager)
    page.click(via)
    page.wait_for_selector("#bs-co2[data-value]:not([data-value=''])")
    page.wait_for_selector("#bs-chart-process canvas")
    page.wait_for_selector("#bs-chart-hourly canvas")


@pytest.fixture
def extra_alarm(database_url: str) -> Iterator[psycopg.Connection]:
    """A connection to add an alarm with; the alarm is removed afterwards, so other tests count the seeded ones."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        try:
            yield conn
        finally:
            conn.execute("DELETE FROM alarms WHERE rule = 'bigscreen_probe'")


def test_big_screen_fills_the_wall_without_the_menu_and_shows_the_apis_figures(
        page: Page, live_api: str, users: Users, http: httpx.Client) -> None:
    _open_big_screen(page, live_api, users)
    assert page.locator("#shell").count() == 0 and page.locator("#nav").count() == 0
    page.wait_for_selector("#bs-updated[data-live='live']")  # live power between the refreshes
    body = _overview(http, *users.manager)
    assert value(page, "#bs-co2") == pytest.approx(body["co2"]["total_tco2"], rel=1e-9)
    assert value(page, "#bs-production") == pytest.approx(body["intensity"]["production_t"], rel=1e-9)
    assert value(page, "#bs-intensity") == pytest.approx(body["intensity"]["value"], rel=1e-9)
    assert value(page, "#bs-vs-benchmark") == pytest.approx(body["intensity"]["vs_benchmark_pct"], rel=1e-9)
    assert value(page, "#bs-alarms") == len(body["alarms"]) > 0
    assert value(page, "#bs-power") is not None and value(page, "#bs-power") > 1000  # the two live meters, in kW
    assert page.locator("#bs-alarm-list li[data-device='w-cems']").count() == 1
    # the hours of today add up to the day's CO2 the KPI shows
    assert value(page, "#bs-hourly-total") == pytest.approx(body["co2"]["total_tco2"], rel=1e-6)
    # one wall, no scrolling: the page is exactly the window
    size = page.evaluate("({w: document.documentElement.scrollWidth, h: document.documentElement.scrollHeight})")
    assert size == {"w": 1920, "h": 1080}
    page.evaluate("localStorage.setItem('carbonflow-lang', 'zh-CN')")
    page.reload()
    page.wait_for_selector("#bs-chart-hourly canvas")
    page.wait_for_timeout(600)  # the charts' entry animation
    assert "工厂碳排放监测大屏" in page.inner_text("#bigscreen h1")
    shot(page, "bigscreen-1920-zh")
    page.click("#bs-exit")
    page.wait_for_selector("#shell #kpi-co2")


def test_big_screen_refreshes_itself_when_an_alarm_is_raised(
        page: Page, live_api: str, users: Users, extra_alarm: psycopg.Connection) -> None:
    _open_big_screen(page, live_api, users, via="#open-bigscreen")  # the overview's button
    assert page.locator(f"#bs-site[data-site='{SITE}']").count() == 1  # the overview's site
    before = value(page, "#bs-alarms")
    assert before is not None
    extra_alarm.execute("INSERT INTO alarms (rule, device_id, point, severity, detail, raised_at) VALUES"
                        " ('bigscreen_probe', 'w-elec-mill', 'active_power_kw', 'warning', 'probe', %s)",
                        (datetime.now(UTC),))
    wait_until(lambda: value(page, "#bs-alarms") == before + 1, "the big screen to count the new alarm",
               timeout_s=30, poll=lambda: page.wait_for_timeout(200))
    assert page.locator("#bs-alarm-list li[data-device='w-elec-mill']").count() == 1
    shot(page, "bigscreen-1920-en")
