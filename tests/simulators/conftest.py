"""Shared fixtures of the simulator tests (a test module may define its own of the same name)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.leaks import no_leaked_tasks_or_threads


@pytest.fixture(autouse=True)
async def _no_leaked_tasks_or_threads() -> AsyncIterator[None]:
    async with no_leaked_tasks_or_threads():
        yield
