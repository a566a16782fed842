"""Plausibility of a point's readings: how fast a counter may rise, and the range a gauge must lie in.

A counter reading is implausible when

- it is negative: no meter counts below zero, so it is a sign, decoding or scaling error; or
- it rose more since the last plausible reading than the point's limit allows: `max_rise_per_h` times the
  hours between the two, never judged over less than `MIN_WINDOW_S` (a register steps, so a reading taken
  just after a step shows a burst that a short interval would magnify).

A counter that went down is not judged here: `carbon_domain.counters.counter_delta` tells a rollover, a reset
and a meter replacement apart. A gauge reading is implausible outside its range (either side may be open).

Which limit applies, first found wins: one set by hand on the point, the device profile's
(`plausibility.max_rise_per_h`, or `plausibility.rated_power_kw` x `RATED_POWER_HEADROOM` for an energy
counter), else `DEFAULT_MAX_RISE_PER_H` of the point's stored unit.

>>> found = screen_counter(None, [0, 3_600_000_000, 7_200_000_000], [100.0, 1e15, 150.0], max_rise_per_h=1000.0)
>>> [f and f.reason for f in found]
[None, 'rise', None]
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Literal

from carbon_domain.units import convert

__all__ = [
    "DEFAULT_MAX_RISE_PER_H",
    "MIN_WINDOW_S",
    "RATED_POWER_HEADROOM",
    "Finding",
    "allowed_rise",
    "counter_finding",
    "out_of_range",
    "rise_limit_from_rated_power",
    "screen_counter",
    "screen_counter_from",
]

DEFAULT_MAX_RISE_PER_H = 1e7
"""A counter's limit when neither a person nor its profile gave one, in its stored unit per hour: 10 GWh per
hour for an energy counter (kWh), more than the largest power-station unit delivers, 10^7 m3 or t per hour for
volume and mass. It only catches the absurd (a 1e15 kWh register); a profile or a hand-set limit catches more."""

RATED_POWER_HEADROOM = 1.2
"""A meter's rated power times this is the most its energy register may rise per hour: meters are specified to
measure up to their maximum current, and a 20 % margin keeps a short overload from being taken for an error."""

MIN_WINDOW_S = 300.0
"""A rise is judged over at least this many seconds (see the module docstring)."""

_US_PER_S = 1_000_000
_S_PER_H = 3600.0

Reason = Literal["negative", "rise"]


@dataclass(frozen=True)
class Finding:
    """Why a counter reading is implausible: `reason` and a sentence naming the numbers."""

    reason: Reason
    detail: str
    previous_us: int | None = None  # the last plausible reading it was judged against (time, value)
    previous_value: float | None = None


def allowed_rise(max_rise_per_h: float, elapsed_s: float) -> float:
    """The most a counter may rise in `elapsed_s` seconds under `max_rise_per_h` (at least MIN_WINDOW_S's worth)."""
    return max_rise_per_h * max(elapsed_s, MIN_WINDOW_S) / _S_PER_H


def rise_limit_from_rated_power(rated_power_kw: float, unit: str) -> float:
    """The rate-of-rise limit (per hour, in `unit`) of an energy counter on a meter of `rated_power_kw`;
    UnitError when `unit` is not an energy unit."""
    return convert(rated_power_kw * RATED_POWER_HEADROOM, "kWh", unit)


def out_of_range(value: float, low: float | None, high: float | None) -> bool:
    """Whether a gauge value lies outside [low, high] (None: that side is open)."""
    return (low is not None and value < low) or (high is not None and value > high)


def screen_counter(
    previous: tuple[int, float] | None, times_us: Sequence[int], values: Sequence[float], *,
    max_rise_per_h: float, trusted: Collection[int] = (),
) -> list[Finding | None]:
    """Judge a counter's readings in time order against the last plausible one before them (`previous`, as
    (epoch microseconds, value), None when there is none); one Finding or None per reading.
    `screen_counter_from` also gives the base the next readings are to be judged against.

    An implausible reading does not become the base the next one is judged against, so a spike is one
    finding, and the readings after it count from the reading before it. A reading not newer than the base
    (a late one) is only checked for its sign. The positions in `trusted` (readings a person accepted) are
    plausible and become the base.
    """
    return screen_counter_from(previous, times_us, values, max_rise_per_h=max_rise_per_h, trusted=trusted)[0]


def counter_finding(base: tuple[int, float] | None, us: int, value: float, max_rise_per_h: float) -> Finding | None:
    """Why one counter reading (at `us` epoch microseconds) is implausible against the last plausible reading
    `base` (None: there is none), or None when it is plausible. A reading not newer than the base is only
    checked for its sign. The sink calls this once per counter reading, so the usual case returns early."""
    if value >= 0 and (base is None or value <= base[1] or us <= base[0]
                       or value - base[1] <= allowed_rise(max_rise_per_h, (us - base[0]) / _US_PER_S)):
        return None
    if value < 0:
        return Finding("negative", f"counter reading {value:g} is negative: no meter counts below zero")
    assert base is not None
    elapsed_s = (us - base[0]) / _US_PER_S
    limit = allowed_rise(max_rise_per_h, elapsed_s)
    return Finding("rise", f"counter rose {value - base[1]:g} in {elapsed_s:g} s (from {base[1]:g}), more than"
                           f" the {limit:g} its limit of {max_rise_per_h:g} per hour allows", base[0], base[1])


def screen_counter_from(
    previous: tuple[int, float] | None, times_us: Sequence[int], values: Sequence[float], *,
    max_rise_per_h: float, trusted: Collection[int] = (),
) -> tuple[list[Finding | None], tuple[int, float] | None]:
    """`screen_counter`'s findings and the last plausible reading after them (the next base)."""
    base = previous
    found: list[Finding | None] = []
    for i, (us, value) in enumerate(zip(times_us, values)):
        finding = None if i in trusted else counter_finding(base, us, value, max_rise_per_h)
        found.append(finding)
        if finding is None and (base is None or us > base[0]):
            base = (us, value)
    return found, base
