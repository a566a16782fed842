"""Waiting in browser tests for something outside the page: an API answer that has caught up with a write, a
request the page made. Playwright waits for the page's own elements; this waits for the rest, until a
deadline, and fails saying what never happened."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

__all__ = ["wait_until"]

T = TypeVar("T")


def wait_until(check: Callable[[], T], what: str, *, timeout_s: float = 30.0,
               poll: Callable[[], object] = lambda: time.sleep(0.2)) -> T:
    """The first truthy result of `check`, called until `timeout_s` have passed, `poll` between calls.

    With a page open, pass `poll=lambda: page.wait_for_timeout(50)`: Playwright runs the page's event
    handlers (routes, responses) only while a call of its own is in progress, never during time.sleep."""
    deadline = time.monotonic() + timeout_s
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout_s:.0f} s for {what}; the last look found {found!r}")
        poll()
