"""`carbonflow alarms check`: every platform alarm check in one loop, each in its own transaction, so that one
failing check does not hold back the others (docs/alarms.md, "Platform alarms"):

- ``assets``: projected allowance deficits and deadline reminders (api/assets/alarms.py);
- ``targets``: holders of an issued target off track (api/analysis/target_alarms.py).

`carbonflow assets alarms` runs the first alone, as it did before the loop was shared.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import date, datetime
from typing import Any

import psycopg

from api.analysis.target_alarms import check_target_alarms
from api.assets.alarms import TZ, check_asset_alarms

__all__ = ["CHECKS", "describe", "run_checks"]

_log = logging.getLogger(__name__)
CHECKS: dict[str, Callable[[psycopg.AsyncConnection, date], Awaitable[Any]]] = {
    "assets": check_asset_alarms,
    "targets": check_target_alarms,
}


def describe(name: str, check: Any) -> list[str]:
    """What a check left active and cleared, as lines for the terminal (problems apart, for stderr)."""
    if name == "assets":
        head = (f"{check.day}: {len(check.deficits)} projected deficit(s), {len(check.deadlines)} deadline"
                f" reminder(s) active; {len(check.cleared)} cleared")
        active = (*check.deficits, *check.deadlines)
    else:
        head = f"{check.day}: {len(check.off_track)} target holder(s) off track; {len(check.cleared)} cleared"
        active = check.off_track
    return [head, *(f"  active  {s}" for s in active), *(f"  cleared {s}" for s in check.cleared)]


async def _check_once(url: str, names: Sequence[str]) -> tuple[dict[str, Any], dict[str, psycopg.Error]]:
    """Each check's result, or the database error it failed with (the others still run)."""
    today = datetime.now(TZ).date()
    results: dict[str, Any] = {}
    errors: dict[str, psycopg.Error] = {}
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        for name in names:
            try:
                results[name] = await CHECKS[name](conn, today)
            except psycopg.Error as exc:
                errors[name] = exc
    return results, errors


async def run_checks(url: str, *, names: Sequence[str] = tuple(CHECKS), once: bool,
                     poll_s: float = 3600.0) -> dict[str, Any] | None:
    """Run the checks `names` now and, unless `once`, again every `poll_s` seconds; returns each check's result
    when `once`. A failed check is logged and tried again at the next round (with `once` it raises, once the
    other checks have run)."""
    failing: dict[str, str] = {}  # each check's last error, logged once however often it repeats
    while True:
        try:
            results, errors = await _check_once(url, names)
        except psycopg.Error as exc:  # no connection: every check failed alike
            if once:
                raise
            results, errors = {}, dict.fromkeys(names, exc)
        for name in names:
            if name in errors:
                if str(errors[name]) != failing.get(name):
                    _log.warning("%s alarms: the check failed (%s); trying again every %.0f s", name, errors[name],
                                 poll_s)
                failing[name] = str(errors[name])
                continue
            if failing.pop(name, None) is not None:
                _log.warning("%s alarms: the check works again", name)
            _log.info("%s alarms on %s", name, describe(name, results[name])[0])
            for problem in results[name].problems:
                _log.warning("%s alarms: %s", name, problem)
        if once:
            if errors:
                raise next(iter(errors.values()))
            return results
        await asyncio.sleep(poll_s)
