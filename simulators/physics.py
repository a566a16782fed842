"""Plant physics: simple rules that move simulated values with simulated time.

    curve      a gauge follows a periodic, piecewise-linear load curve
    scale      a gauge follows another value: target = source * factor + offset
    integrate  a counter integrates a rate: target += source * factor * dt / per
    follow     a counter follows another counter: target += d(source) * factor

Counters wrap at their point's ``rollover``.  ``when`` names a boolean point
that must be true for a counter to advance (a stopped line produces nothing).
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections.abc import Mapping
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .device import SimulatedDevice, Value

__all__ = [
    "CurveRule",
    "FollowRule",
    "IntegrateRule",
    "Physics",
    "PointRef",
    "Rule",
    "ScaleRule",
    "split_ref",
]

PointRef = Annotated[
    str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]*\.[A-Za-z][A-Za-z0-9_]*$")
]
"""``"<device id>.<point name>"``."""

_SECONDS = {"s": 1.0, "min": 60.0, "h": 3600.0}


def split_ref(ref: str) -> tuple[str, str]:
    """(device id, point name) of a ``device.point`` reference."""
    device, point = ref.split(".", 1)
    return device, point


class _Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    target: PointRef

    def references(self) -> list[tuple[str, str]]:
        """(role, reference) of every point the rule reads or writes."""
        refs = [("target", self.target)]
        for role in ("source", "when"):
            ref = getattr(self, role, None)
            if ref is not None:
                refs.append((role, ref))
        return refs


class CurveRule(_Rule):
    """Target follows ``points`` [[t_s, value], ...], repeating every ``period_s``."""

    kind: Literal["curve"]
    period_s: float = Field(gt=0)
    points: list[tuple[float, float]] = Field(min_length=1)

    @model_validator(mode="after")
    def _times_increase(self) -> CurveRule:
        times = [t for t, _ in self.points]
        if any(b <= a for a, b in itertools.pairwise(times)):
            raise ValueError(f"curve times must increase, got {times}")
        if times[0] < 0 or times[-1] >= self.period_s:
            raise ValueError(
                f"curve times must lie in [0, {self.period_s}), got {times}"
            )
        return self

    def value_at(self, t_s: float) -> float:
        """Curve value at simulated time ``t_s`` (linear between points, wrapping)."""
        t = t_s % self.period_s
        times = [p[0] for p in self.points]
        index = bisect.bisect_right(times, t) - 1
        t0, v0 = (
            self.points[index]
            if index >= 0
            else (self.points[-1][0] - self.period_s, self.points[-1][1])
        )
        t1, v1 = (
            self.points[index + 1]
            if index + 1 < len(self.points)
            else (self.points[0][0] + self.period_s, self.points[0][1])
        )
        return v0 if t1 == t0 else v0 + (v1 - v0) * (t - t0) / (t1 - t0)


class ScaleRule(_Rule):
    """Target = source * factor + offset."""

    kind: Literal["scale"]
    source: PointRef
    factor: float
    offset: float = 0.0


class IntegrateRule(_Rule):
    """Target counter += source rate * factor * dt / per (e.g. kWh += kW * dt/3600)."""

    kind: Literal["integrate"]
    source: PointRef
    factor: float = 1.0
    per: Literal["s", "min", "h"] = "h"
    when: PointRef | None = None


class FollowRule(_Rule):
    """Target counter += increase of the source counter * factor (e.g. t += kWh / intensity)."""

    kind: Literal["follow"]
    source: PointRef
    factor: float
    when: PointRef | None = None


Rule = Annotated[
    CurveRule | ScaleRule | IntegrateRule | FollowRule, Field(discriminator="kind")
]


class Physics:
    """Applies rules, in order, to a set of devices."""

    def __init__(
        self, rules: list[Rule], devices: Mapping[str, SimulatedDevice]
    ) -> None:
        self.rules = list(rules)
        self.devices = devices
        self.time_s = 0.0
        self._last: dict[
            int, float
        ] = {}  # follow rules: source value at the previous step

    def step(self, dt_s: float) -> None:
        """Advance simulated time by ``dt_s`` seconds and apply every rule."""
        self.time_s += dt_s
        for index, rule in enumerate(self.rules):
            if isinstance(rule, CurveRule):
                self._set(rule.target, rule.value_at(self.time_s))
            elif isinstance(rule, ScaleRule):
                self._set(
                    rule.target, self._number(rule.source) * rule.factor + rule.offset
                )
            elif isinstance(rule, IntegrateRule):
                rate = self._number(rule.source) * rule.factor
                if self._enabled(rule.when):
                    self._advance(rule.target, rate * dt_s / _SECONDS[rule.per])
            else:
                source = self._number(rule.source)
                previous = self._last.get(index, source)
                self._last[index] = source
                if source > previous and self._enabled(
                    rule.when
                ):  # a reset or wrap adds nothing
                    self._advance(rule.target, (source - previous) * rule.factor)

    def _get(self, ref: str) -> Value:
        device, point = split_ref(ref)
        return self.devices[device].get(point)

    def _number(self, ref: str) -> float:
        value = self._get(ref)
        return (
            float(value)
            if isinstance(value, int | float) and math.isfinite(value)
            else 0.0
        )

    def _enabled(self, ref: str | None) -> bool:
        return ref is None or bool(self._get(ref))

    def _set(self, ref: str, value: float) -> None:
        device, point = split_ref(ref)
        self.devices[device].set(point, value)

    def _advance(self, ref: str, delta: float) -> None:
        device_id, name = split_ref(ref)
        device = self.devices[device_id]
        value = self._number(ref) + delta
        rollover = device.profile.point(name).rollover
        if rollover is not None:
            value %= rollover
        device.set(name, value)
