"""Plant physics: simple rules that move simulated values with simulated time.

    curve       a gauge follows a periodic, piecewise-linear load curve
                (``clock: day`` reads the curve by simulated time of day)
    shifts      a gauge holds one level per 8-hour shift, ramping at each change
    daylight    a gauge follows the sun: peak * sin between sunrise and sunset
    scale       a gauge follows another value: target = source * factor + offset
    threshold   target = high while source > threshold, else low (flags, states)
    combustion  a CEMS's flow, CO2, O2 and moisture follow the fuels burned
    integrate   a counter integrates a rate: target += source * factor * dt / per
    follow      a counter follows another counter: target += d(source) * factor

Counters wrap at their point's ``rollover``.  ``when`` names a boolean point
that must be true for a counter to advance (a stopped line produces nothing).

A step of any length is cut into sub-steps of at most ``max_step_s`` and
rates are integrated with the trapezoid rule, so a plant run at ``--speed
3600`` books the same energy as one run in real time.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import math
from collections.abc import Mapping
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .device import SimulatedDevice, Value

__all__ = [
    "CombustionRule",
    "CurveRule",
    "DaylightRule",
    "FollowRule",
    "Fuel",
    "IntegrateRule",
    "Physics",
    "PointRef",
    "Rule",
    "ScaleRule",
    "ShiftRule",
    "ThresholdRule",
    "split_ref",
]

PointRef = Annotated[
    str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]*\.[A-Za-z][A-Za-z0-9_]*$")
]
"""``"<device id>.<point name>"``."""

DAY_S = 86400.0
SHIFT_S = 8 * 3600.0
MAX_SUBSTEPS = 2000
"""More sub-steps than this per step lengthen them instead (the plant is falling behind)."""

_SECONDS = {"s": 1.0, "min": 60.0, "h": 3600.0}
_O2_IN_AIR = 0.2095  # volume fraction in dry air
_NORMAL_K = 273.15
_NORMAL_PA = 101325.0


@functools.cache
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
    """Target follows ``points`` [[t_s, value], ...], repeating every ``period_s``.

    ``clock: elapsed`` (default) reads the curve by seconds since the plant
    started; ``clock: day`` by simulated seconds since midnight.
    """

    kind: Literal["curve"]
    period_s: float = Field(gt=0)
    points: list[tuple[float, float]] = Field(min_length=1)
    clock: Literal["elapsed", "day"] = "elapsed"

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


class ShiftRule(_Rule):
    """Target holds ``levels`` [early, late, night] over three 8-hour shifts.

    The early shift starts at ``first_shift_h`` (simulated time of day); each
    change of shift ramps linearly from the old level over ``ramp_s``.
    """

    kind: Literal["shifts"]
    levels: tuple[float, float, float]
    first_shift_h: float = Field(default=6.0, ge=0, lt=24)
    ramp_s: float = Field(default=600.0, ge=0, lt=SHIFT_S)

    def value_at(self, time_of_day_s: float) -> float:
        """Level at ``time_of_day_s`` seconds after midnight."""
        into_day = (time_of_day_s - self.first_shift_h * 3600.0) % DAY_S
        shift = min(int(into_day // SHIFT_S), 2)
        into_shift = into_day - shift * SHIFT_S
        level = self.levels[shift]
        if into_shift >= self.ramp_s:
            return level
        before = self.levels[shift - 1]  # index -1 is the night shift
        return before + (level - before) * into_shift / self.ramp_s


class DaylightRule(_Rule):
    """Target = peak * sin(pi * daylight fraction) between sunrise and sunset, else 0."""

    kind: Literal["daylight"]
    peak: float
    sunrise_h: float = Field(default=6.0, ge=0, lt=24)
    sunset_h: float = Field(default=18.0, gt=0, le=24)

    @model_validator(mode="after")
    def _day_has_length(self) -> DaylightRule:
        if self.sunset_h <= self.sunrise_h:
            raise ValueError(
                f"sunset_h {self.sunset_h} must be after sunrise_h {self.sunrise_h}"
            )
        return self

    def value_at(self, time_of_day_s: float) -> float:
        """Output at ``time_of_day_s`` seconds after midnight."""
        hour = (time_of_day_s % DAY_S) / 3600.0
        if not self.sunrise_h < hour < self.sunset_h:
            return 0.0
        fraction = (hour - self.sunrise_h) / (self.sunset_h - self.sunrise_h)
        return self.peak * math.sin(math.pi * fraction)


class ScaleRule(_Rule):
    """Target = source * factor + offset."""

    kind: Literal["scale"]
    source: PointRef
    factor: float
    offset: float = 0.0


class ThresholdRule(_Rule):
    """Target = ``high`` while source > ``threshold``, else ``low`` (booleans or numbers)."""

    kind: Literal["threshold"]
    source: PointRef
    threshold: float
    high: bool | float
    low: bool | float

    def references(self) -> list[tuple[str, str]]:
        """The target may be a flag: its role is "state"."""
        return [("state", self.target), ("source", self.source)]


class Fuel(BaseModel):
    """One fuel of a combustion rule: products and oxygen demand per unit of fuel.

    Natural gas (as methane) per Nm3: co2 1, h2o 2, o2 2.  Coke breeze
    (about 85 % carbon) per tonne: co2 1590, o2 1590.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    source: PointRef
    co2: float = Field(ge=0, description="Nm3 CO2 per unit of fuel")
    h2o: float = Field(default=0.0, ge=0, description="Nm3 water vapour per unit")
    o2: float = Field(ge=0, description="Nm3 O2 for complete combustion per unit")
    inert: float = Field(
        default=0.0, ge=0, description="Nm3 fuel-borne N2 etc. per unit"
    )


class CombustionRule(_Rule):
    """A stack's wet flue gas from the fuels burned (source rates per hour).

    Dry air = excess_air * stoichiometric air + leak air; the flue gas keeps
    the air's nitrogen and unused oxygen plus the fuels' CO2, water and inert
    gas.  ``target`` receives the flow at stack conditions (m3/h), corrected
    from normal conditions with the temperature and pressures if given.
    """

    kind: Literal["combustion"]
    fuels: list[Fuel] = Field(min_length=1)
    excess_air: float = Field(default=1.2, ge=1)
    leak_air_nm3h: float = Field(default=0.0, ge=0)
    air_moisture_pct: float = Field(default=1.0, ge=0, lt=10)
    co2: PointRef | None = None
    o2: PointRef | None = None
    moisture: PointRef | None = None
    temperature: PointRef | None = None
    static_pressure: PointRef | None = None
    barometric_pressure: PointRef | None = None

    def references(self) -> list[tuple[str, str]]:
        """Outputs are targets; fuels and stack conditions are sources."""
        refs = [("target", self.target)]
        refs += [("target", ref) for ref in (self.co2, self.o2, self.moisture) if ref]
        refs += [("source", fuel.source) for fuel in self.fuels]
        refs += [
            ("source", ref)
            for ref in (
                self.temperature,
                self.static_pressure,
                self.barometric_pressure,
            )
            if ref
        ]
        return refs


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
    CurveRule
    | ShiftRule
    | DaylightRule
    | ScaleRule
    | ThresholdRule
    | CombustionRule
    | IntegrateRule
    | FollowRule,
    Field(discriminator="kind"),
]


class Physics:
    """Applies rules, in order, to a set of devices."""

    def __init__(
        self,
        rules: list[Rule],
        devices: Mapping[str, SimulatedDevice],
        *,
        max_step_s: float = 10.0,
        day_start_s: float = 0.0,
    ) -> None:
        if max_step_s <= 0:
            raise ValueError(f"max_step_s must be > 0, got {max_step_s}")
        self.rules = list(rules)
        self.devices = devices
        self.max_step_s = max_step_s
        self.day_start_s = day_start_s % DAY_S
        self.time_s = 0.0
        self._last: dict[int, float] = {}  # follow rules: source at the previous step
        self._rate: dict[int, float] = {}  # integrate rules: rate at the previous step
        self._rollovers: dict[str, float | None] = {}

    @property
    def time_of_day_s(self) -> float:
        """Simulated seconds since midnight."""
        return (self.day_start_s + self.time_s) % DAY_S

    def step(self, dt_s: float) -> None:
        """Advance simulated time by ``dt_s`` seconds and apply every rule."""
        if dt_s < 0:
            raise ValueError(f"time runs forward; dt_s {dt_s} < 0")
        count = max(1, min(MAX_SUBSTEPS, math.ceil(dt_s / self.max_step_s)))
        sub, start = dt_s / count, self.time_s
        for index in range(1, count + 1):
            # From the start, not by adding up: a day of steps ends on the second.
            self.time_s = start + dt_s if index == count else start + index * sub
            self._apply(sub)

    def rebase(self, ref: str) -> None:
        """Forget the last value of counter ``ref``: its next change is a jump, not production."""
        for index, rule in enumerate(self.rules):
            if isinstance(rule, FollowRule) and rule.source == ref:
                self._last.pop(index, None)

    def _apply(self, dt_s: float) -> None:
        for index, rule in enumerate(self.rules):
            if isinstance(rule, CurveRule):
                clock = self.time_of_day_s if rule.clock == "day" else self.time_s
                self._set(rule.target, rule.value_at(clock))
            elif isinstance(rule, ShiftRule | DaylightRule):
                self._set(rule.target, rule.value_at(self.time_of_day_s))
            elif isinstance(rule, ScaleRule):
                self._set(
                    rule.target, self._number(rule.source) * rule.factor + rule.offset
                )
            elif isinstance(rule, ThresholdRule):
                above = self._number(rule.source) > rule.threshold
                self._set(rule.target, rule.high if above else rule.low)
            elif isinstance(rule, CombustionRule):
                self._burn(rule)
            elif isinstance(rule, IntegrateRule):
                rate = self._number(rule.source) * rule.factor
                before = self._rate.get(index, rate)
                self._rate[index] = rate
                if self._enabled(rule.when):
                    mean = (before + rate) / 2.0  # trapezoid: exact for linear ramps
                    self._advance(rule.target, mean * dt_s / _SECONDS[rule.per])
            else:
                self._follow(index, rule)

    def _follow(self, index: int, rule: FollowRule) -> None:
        source = self._number(rule.source)
        previous = self._last.get(index, source)
        self._last[index] = source
        increase = source - previous
        if increase < 0:
            rollover = self._rollover(rule.source)
            # A wrap shows as a big fall; anything else (a reset) adds nothing.
            wrapped = rollover is not None and -increase > rollover / 2
            increase = increase + rollover if wrapped and rollover else 0.0
        if increase > 0 and self._enabled(rule.when):
            self._advance(rule.target, increase * rule.factor)

    def _burn(self, rule: CombustionRule) -> None:
        co2 = h2o = o2_need = inert = 0.0
        for fuel in rule.fuels:
            rate = max(0.0, self._number(fuel.source))
            co2 += fuel.co2 * rate
            h2o += fuel.h2o * rate
            o2_need += fuel.o2 * rate
            inert += fuel.inert * rate
        air = rule.excess_air * o2_need / _O2_IN_AIR + rule.leak_air_nm3h
        water = h2o + air * rule.air_moisture_pct / (100.0 - rule.air_moisture_pct)
        wet = co2 + inert + air - o2_need + water  # Nm3/h at 0 degC, 1 atm
        if wet > 0:
            co2_pct = 100.0 * co2 / wet
            o2_pct = 100.0 * (_O2_IN_AIR * air - o2_need) / wet
            moisture_pct = 100.0 * water / wet
        else:
            co2_pct, o2_pct, moisture_pct = 0.0, 100.0 * _O2_IN_AIR, 0.0
        kelvin = _NORMAL_K + (
            self._number(rule.temperature) if rule.temperature else 0.0
        )
        pascal = (
            self._number(rule.barometric_pressure)
            if rule.barometric_pressure
            else _NORMAL_PA
        ) + (self._number(rule.static_pressure) if rule.static_pressure else 0.0)
        actual = wet * kelvin / _NORMAL_K * _NORMAL_PA / pascal if pascal > 0 else 0.0
        self._set(rule.target, actual)
        for ref, value in (
            (rule.co2, co2_pct),
            (rule.o2, o2_pct),
            (rule.moisture, moisture_pct),
        ):
            if ref:
                self._set(ref, value)

    def _rollover(self, ref: str) -> float | None:
        if ref not in self._rollovers:
            device, name = split_ref(ref)
            self._rollovers[ref] = self.devices[device].profile.point(name).rollover
        return self._rollovers[ref]

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

    def _set(self, ref: str, value: Value) -> None:
        device, point = split_ref(ref)
        self.devices[device].set(point, value)

    def _advance(self, ref: str, delta: float) -> None:
        device_id, name = split_ref(ref)
        device = self.devices[device_id]
        value = self._number(ref) + delta
        rollover = self._rollover(ref)
        if rollover is not None:
            value %= rollover
        device.set(name, value)
