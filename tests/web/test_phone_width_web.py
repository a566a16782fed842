"""Every page at a phone's width (390x844), in headless Chromium as the administrator (whose menu holds every page):
the document never scrolls sideways; wide tables scroll inside their own box. A page added to the menu by any
service is checked without touching this file. Screenshots: tests/artifacts/web-phone-<page>.png."""

from __future__ import annotations

from typing import Any

import pytest

from tests.web.conftest import Users
from tests.web.menu import visit_each
from tests.web.ui import log_in, shot

Page = Any  # playwright.sync_api.Page
pytestmark = pytest.mark.timeout(900)
PHONE = {"width": 390, "height": 844}

# how far the document scrolls sideways, and the elements that stick out past the window's right edge (the
# outermost ones, named by tag, id and class), to say what to fix
_OVERFLOW = """() => {
  const root = document.documentElement;
  const out = [...document.querySelectorAll('body *')].filter(el => {
    const box = el.getBoundingClientRect();
    return box.width > 0 && box.right > root.clientWidth + 1 && !el.closest('.table-scroll, .el-table, .el-scrollbar')
      && !(el.parentElement && el.parentElement.getBoundingClientRect().right > root.clientWidth + 1);
  }).slice(0, 5).map(el => `${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}`
                          + `${typeof el.className === 'string' && el.className ? '.' + el.className.trim().split(/\\s+/).join('.') : ''}`
                          + ` (right ${Math.round(el.getBoundingClientRect().right)})`);
  return {scroll: root.scrollWidth, client: root.clientWidth, out};
}"""


def test_every_menu_page_fits_a_phone_without_sideways_scrolling(page: Page, live_api: str, users: Users) -> None:
    page.set_viewport_size(PHONE)
    log_in(page, live_api, *users.admin)
    assert page.is_visible(".menu-button") and not page.is_visible(".sidebar")  # the phone's layout
    wide = {}
    seen = []
    for name in visit_each(page):
        seen.append(name)
        found = page.evaluate(_OVERFLOW)
        if found["scroll"] > found["client"] + 1:
            wide[name] = found
        shot(page, f"phone-{name}")
    assert len(seen) >= 8  # the core pages at least: the menu was read
    assert wide == {}


def test_the_phones_menu_opens_in_a_drawer_and_leads_to_a_page(page: Page, live_api: str, users: Users) -> None:
    page.set_viewport_size(PHONE)
    log_in(page, live_api, *users.manager)
    page.wait_for_selector("#kpi-co2")  # the first page has settled (the app may still be choosing it after sign-in)
    page.click(".menu-button")
    page.wait_for_selector(".nav-drawer #nav a[data-route='alarms']", state="visible")
    page.click(".nav-drawer #nav a[data-route='alarms']")
    page.wait_for_url("**/#/alarms**")
    page.wait_for_selector(".nav-drawer", state="hidden")
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth + 1")
