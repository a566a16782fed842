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
from api.rounds import repeat_rounds

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


def _round_of(url: str, name: str) -> Callable[[], Awaitable[Any]]:
    """One round of the check `name`, in a connection and a day of its own."""
    async def one_round() -> Any:
        async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
            return await CHECKS[name](conn, datetime.now(TZ).date())
    return one_round


def _reporter(name: str) -> Callable[[Any], None]:
    def report(result: Any) -> None:
        _log.info("%s alarms on %s", name, describe(name, result)[0])
        for problem in result.problems:
            _log.warning("%s alarms: %s", name, problem)
    return report


async def run_checks(url: str, *, names: Sequence[str] = tuple(CHECKS), once: bool,
                     poll_s: float = 3600.0) -> dict[str, Any] | None:
    """Run the checks `names` now and, unless `once`, again every `poll_s` seconds, each in rounds of its own
    (api/rounds.py), so that a failing check does not hold back the others: it is logged and tried again at its
    next round. With `once`, each check's result; a check's error is raised once the others have run."""
    outcomes = await asyncio.gather(*(repeat_rounds(f"{name} alarms", _round_of(url, name), once=once, poll_s=poll_s,
                                                    report=_reporter(name)) for name in names),
                                    return_exceptions=True)
    failed = [outcome for outcome in outcomes if isinstance(outcome, BaseException)]
    if failed:
        raise failed[0]
    return dict(zip(names, outcomes, strict=True))
