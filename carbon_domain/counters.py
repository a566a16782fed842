"""Counter readings -> interval deltas, telling a rollover, a reset and a meter replacement apart.

A counter that went backwards is one of three things:

- rollover: the register wrapped at its maximum (`rollover`, from the device profile). Only when the
  wrapped increase is small against the register span (the old value was near the top, the new one near
  zero): the increase is `rollover - old + new`.
- reset: the meter was cleared and counts up from about zero (the new value is at most `reset_fraction`
  of the old one): the increase is the new value.
- replacement: a jump to an unrelated value (neither of the above), or a different meter serial when the
  profile reports one. What was consumed between the two readings is unknown: the interval gets amount 0
  and the note, so its emission row is flagged rather than invented, and the new value becomes the base.

A counter that rose faster than `max_rate` (units per second, when known) is taken as a replacement too:
a new meter that starts above the old one's reading.

The stream job applies `counter_delta` to each new reading; readers that must build an increase from raw
readings in SQL (the API's exports) use `counter_increase_sql`, the same rules with the same thresholds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

__all__ = ["NOTES", "CounterState", "Delta", "counter_delta", "counter_increase_sql"]

NOTES = ("rollover", "reset", "replacement")
"""The notes a delta can carry; every one makes its interval uncertain."""

_NEAR_MAX = 0.1  # a rollover's increase is at most this share of the register span
_RESET_FRACTION = 0.05


@dataclass(frozen=True)
class CounterState:
    ts: datetime
    value: float
    serial: str | None = None


@dataclass(frozen=True)
class Delta:
    start_ts: datetime
    end_ts: datetime
    amount: float
    note: str | None  # one of NOTES when the counter did not simply count up


def counter_delta(
    previous: CounterState | None, ts: datetime, value: float, rollover: float | None = None, *,
    serial: str | None = None, max_rate: float | None = None, reset_fraction: float = _RESET_FRACTION,
) -> Delta | None:
    """The increase since `previous`; None for the first reading or one not newer than the state."""
    if previous is None or ts <= previous.ts:
        return None
    if serial is not None and previous.serial is not None and serial != previous.serial:
        return Delta(previous.ts, ts, 0.0, "replacement")
    if value >= previous.value:
        increase = value - previous.value
        if max_rate is not None and increase > max_rate * (ts - previous.ts).total_seconds():
            return Delta(previous.ts, ts, 0.0, "replacement")
        return Delta(previous.ts, ts, increase, None)
    if rollover is not None and previous.value <= rollover:
        wrapped = rollover - previous.value + value
        if wrapped <= _NEAR_MAX * rollover:
            return Delta(previous.ts, ts, wrapped, "rollover")
    if value <= reset_fraction * previous.value:
        return Delta(previous.ts, ts, value, "reset")
    return Delta(previous.ts, ts, 0.0, "replacement")


def counter_increase_sql(previous: str, value: str, rollover: str) -> str:
    """A SQL expression (double precision) of `counter_delta`'s amount, from SQL expressions of the previous
    value, the new value and the register's rollover (NULL when unknown), for a reading newer than the
    previous one. Meter serials and `max_rate` are left out: readings carry no serial, and no profile declares
    a rate, so the stream job does not pass them either."""
    wrapped = f"({rollover} - {previous} + {value})"
    return (f"(CASE WHEN {value} >= {previous} THEN {value} - {previous}"
            f" WHEN {rollover} IS NOT NULL AND {previous} <= {rollover}"
            f" AND {wrapped} <= {_NEAR_MAX!r}::float8 * {rollover} THEN {wrapped}"
            f" WHEN {value} <= {_RESET_FRACTION!r}::float8 * {previous} THEN {value} ELSE 0::float8 END)")
