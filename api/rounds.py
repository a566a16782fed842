"""A background job's rounds (`carbonflow monitoring sync`, `carbonflow monitoring schedule`, ...): one now and,
unless `once`, another every `poll_s` seconds. A round that fails with a database error is logged once however
often it repeats, and its recovery once; the loop keeps going (with `once` the error is raised to the caller)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

import psycopg

__all__ = ["repeat_rounds"]

_log = logging.getLogger(__name__)
Result = TypeVar("Result")


async def repeat_rounds(job: str, round_: Callable[[], Awaitable[Result]], *, once: bool, poll_s: float,
                        report: Callable[[Result], None]) -> Result | None:
    """Run `round_` now and, unless `once`, every `poll_s` seconds, handing each result to `report`; returns the
    result when `once`."""
    failing: str | None = None  # the last round's error
    while True:
        try:
            result = await round_()
        except psycopg.Error as exc:
            if once:
                raise
            if str(exc) != failing:
                _log.warning("%s: the round failed (%s); trying again every %.0f s", job, exc, poll_s)
            failing = str(exc)
        else:
            if failing is not None:
                _log.warning("%s: the rounds work again", job)
            failing = None
            report(result)
            if once:
                return result
        await asyncio.sleep(poll_s)
