"""Every page a role's menu shows, visited in turn: the checks that hold for all pages (accessibility, phone width)
iterate over the menu rather than a list, so a page another service adds is covered as soon as it is in the menu."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

__all__ = ["menu_pages", "settle", "visit_each"]

Page = Any  # playwright.sync_api.Page

# what a page shows while its first answers are on their way (common.loading in both languages)
_LOADING = ("Loading…", "加载中…")


def menu_pages(page: Page) -> list[tuple[str, str]]:
    """(route name, address) of each link in the signed-in role's menu, in menu order."""
    page.wait_for_selector("#nav a[data-route]", state="attached")
    return [(name, href) for name, href in page.eval_on_selector_all(
        "#nav a[data-route]", "links => links.map(a => [a.dataset.route, a.getAttribute('href')])")]


def settle(page: Page) -> None:
    """Wait until the page has shown its data: no loading text or mask left, then a moment for charts and
    late answers (a page that never settles is checked as it stands after 10 s)."""
    until = page.evaluate("performance.now()") + 10_000
    page.wait_for_function(
        "([texts, until]) => performance.now() > until || (!texts.some(t => document.body.innerText.includes(t))"
        " && !document.querySelector('.el-loading-mask:not([style*=\"display: none\"])'))",
        arg=[list(_LOADING), until], timeout=15_000)
    page.wait_for_timeout(700)


def visit_each(page: Page) -> Iterator[str]:
    """Open each page of the menu in turn (as a click on its link does), settled; yields its route name."""
    for name, href in menu_pages(page):
        target = href[href.index("#"):]
        page.evaluate("target => { location.hash = target; }", target)
        page.wait_for_function("target => location.hash.split('?')[0] === target", arg=target)
        settle(page)
        yield name
