"""The check behind the autouse fixtures that fail a test which leaks asyncio tasks or threads."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

__all__ = ["no_leaked_tasks_or_threads"]


@asynccontextmanager
async def no_leaked_tasks_or_threads(
    *, ignore: Callable[[asyncio.Task[object]], bool] = lambda task: False, polls: int = 100
) -> AsyncIterator[None]:
    """Fail if the block leaves tasks or threads running (library tasks get `polls` x 10 ms to finish)."""
    tasks, threads = asyncio.all_tasks(), set(threading.enumerate())
    yield
    leaked: set[asyncio.Task[object]] = set()
    extra: set[threading.Thread] = set()
    for _ in range(polls):  # pymodbus and asyncua finish requests in tasks of their own
        leaked = {t for t in asyncio.all_tasks() - tasks - {asyncio.current_task()} if not t.done() and not ignore(t)}
        # the loop's default executor (asyncio_N threads, used for DNS) closes with the loop
        extra = {t for t in set(threading.enumerate()) - threads if not t.name.startswith("asyncio_") and t.is_alive()}
        if not leaked and not extra:
            break
        await asyncio.sleep(0.01)
    assert (leaked, extra) == (set(), set())
