"""Counter readings -> interval deltas, with rollover and reset (meter replacement) detection."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

__all__ = ["CounterState", "Delta", "counter_delta"]


@dataclass(frozen=True)
class CounterState:
    ts: datetime
    value: float


@dataclass(frozen=True)
class Delta:
    start_ts: datetime
    end_ts: datetime
    amount: float
    note: str | None  # "rollover" or "reset" when the counter went backwards


def counter_delta(previous: CounterState | None, ts: datetime, value: float, rollover: float | None = None) -> Delta | None:
    """The increase since `previous`; None for the first reading or one not newer than the state."""
    if previous is None or ts <= previous.ts:
        return None
    if value >= previous.value:
        return Delta(previous.ts, ts, value - previous.value, None)
    if rollover is not None and previous.value <= rollover:
        return Delta(previous.ts, ts, rollover - previous.value + value, "rollover")
    # counter went backwards with no rollover: a reset or replaced meter counting up from zero
    return Delta(previous.ts, ts, value, "reset")
