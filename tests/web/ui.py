"""What the browser tests do on the web app's pages, as a person would: sign in, pick from an Element Plus select,
read the exact figures a page shows (its data-value attributes), save a screenshot."""

from __future__ import annotations

import re
from typing import Any

from tests.web.conftest import ARTIFACTS

__all__ = ["choice", "choose", "log_in", "open_from_drawer", "shot", "text_number", "value"]

Page = Any  # playwright.sync_api.Page; the module is imported only once Chromium is there


def shot(page: Page, name: str) -> None:
    # a full page late in a long run (every test's devices, reports...) is tall: give the capture its own time
    page.screenshot(path=str(ARTIFACTS / f"web-{name}.png"), full_page=True, timeout=60_000)


def log_in(page: Page, base: str, username: str, password: str) -> None:
    page.goto(base + "/")
    page.fill("#login-username", username)
    page.fill("#login-password", password)
    page.click("#login button[type=submit]")
    page.wait_for_selector("#shell")


def open_from_drawer(page: Page, route: str, ready: str) -> None:
    """At a phone's width: open the menu drawer, follow `route` and wait for `ready` to show and the drawer to
    close."""
    page.click(".menu-button")
    page.click(f".nav-drawer a[data-route='{route}']")
    page.wait_for_selector(ready)
    page.wait_for_selector(".nav-drawer", state="hidden")


def choose(page: Page, select: str, value: str) -> None:
    """Open the Element Plus select `select` (its input's selector) and click the option whose value is `value`."""
    page.click(f".el-select:has({select}) .el-select__wrapper")
    page.locator(f".el-select-dropdown__item:visible [data-value='{value}']").click()


def choice(page: Page, select: str) -> str:
    """The label an Element Plus select shows for its chosen option."""
    return page.inner_text(f".el-select:has({select}) .el-select__placeholder")  # type: ignore[no-any-return]


def value(page: Page, selector: str) -> float | None:
    raw = page.get_attribute(selector, "data-value")
    return None if raw in (None, "") else float(raw)


def text_number(page: Page, selector: str) -> float:
    return float(re.sub(r"[^0-9.\-]", "", page.inner_text(selector)))
