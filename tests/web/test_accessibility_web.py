"""axe-core (web/node_modules, a devDependency of the web app) on every page, in headless Chromium: the sign-in
screen and any page shown without signing in (as a visitor), then each page of the administrator's menu (the
role that sees them all), in Chinese (the default). No violation of impact serious or critical may remain:
labels, contrast, landmarks, names. A page added to the menu by any service is checked without touching this file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.web.conftest import TZ, Users
from tests.web.menu import menu_pages, settle, visit_each
from tests.web.ui import log_in

Page = Any  # playwright.sync_api.Page
pytestmark = pytest.mark.timeout(900)
AXE = Path(__file__).resolve().parents[2] / "web" / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = ("serious", "critical")


def violations(page: Page) -> list[str]:
    """The serious and critical violations axe finds on the page as it stands, one line each with where."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))  # evaluated, not a <script>: the app's CSP allows 'self' only
    found = page.evaluate(r"""blocking => axe.run(document, {resultTypes: ['violations']}).then(r => r.violations
        .filter(v => blocking.includes(v.impact))
        .map(v => `${v.impact} ${v.id}: ${v.help} at ${v.nodes.slice(0, 4).map(n => n.target.join(' ')).join(', ')}`
                  + (v.nodes.length > 4 ? ` (+${v.nodes.length - 4} more)` : '')
                  + ` (first: ${(v.nodes[0].failureSummary || '').replace(/\s+/g, ' ').slice(0, 240)})`))""", list(BLOCKING))
    return found  # type: ignore[no-any-return]


@pytest.fixture
def axe_ready(web_app: Path) -> None:
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run `npm ci` in web/ (axe-core is one of its devDependencies)")


def test_sign_in_screen_and_public_pages_have_no_serious_accessibility_violation(
        page: Page, browser: Any, live_api: str, users: Users, axe_ready: None) -> None:
    """The sign-in screen, and each menu page that shows without signing in (meta.public), as a visitor sees it."""
    log_in(page, live_api, *users.admin)
    addresses = [href for _, href in menu_pages(page)]
    visitor = browser.new_context(viewport={"width": 1440, "height": 900}, timezone_id=TZ, locale="zh-CN")
    try:
        tab = visitor.new_page()
        tab.goto(live_api + "/")
        tab.wait_for_selector("#login")
        found = {"sign-in": violations(tab)}
        for href in addresses:
            tab.goto(f"{live_api}/{href}")
            settle(tab)
            if tab.locator("#login").count() == 0:  # shown without signing in: a public page
                found[href] = violations(tab)
    finally:
        visitor.close()
    assert {where: v for where, v in found.items() if v} == {}


def test_every_menu_page_has_no_serious_accessibility_violation(page: Page, live_api: str, users: Users,
                                                                axe_ready: None) -> None:
    page.add_init_script("localStorage.setItem('carbonflow-lang', 'zh-CN');")  # the default language
    log_in(page, live_api, *users.admin)
    settle(page)
    found = {name: violations(page) for name in visit_each(page)}
    assert len(found) >= 8  # the core pages at least: the menu was read
    assert {name: v for name, v in found.items() if v} == {}, "\n".join(f"{n}: {v}" for n, v in found.items() if v)
