"""Shared fixtures of the simulator tests (a test module may define its own of the same name)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator

import pytest


@pytest.fixture(autouse=True)
async def _no_leaked_tasks_or_threads() -> AsyncIterator[None]:
    tasks, threads = asyncio.all_tasks(), set(threading.enumerate())
    yield
    for _ in range(100):  # pymodbus and asyncua finish requests in tasks of their own
        leaked = {
            t
            for t in asyncio.all_tasks() - tasks - {asyncio.current_task()}
            if not t.done()
        }
        if not leaked:
            break
        await asyncio.sleep(0.01)
    # The loop's default executor (asyncio_N threads, used for DNS) closes with the loop.
    extra = {
        t
        for t in set(threading.enumerate()) - threads
        if not t.name.startswith("asyncio_")
    }
    assert (leaked, extra) == (set(), set())
