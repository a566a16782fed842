"""The steelworks scenario: its devices, and physics that still add up after a simulated day."""

from __future__ import annotations

import itertools
from datetime import time
from typing import Any

import pytest
from pydantic import TypeAdapter

from device_profiles.loader import load_profile
from simulators.device import SimulatedDevice
from simulators.physics import (
    CombustionRule,
    IntegrateRule,
    Physics,
    Rule,
    ShiftRule,
    split_ref,
)
from simulators.plant import Plant
from simulators.scenario import load_scenario

DAY_S = 86400
STEP_S = 300.0  # the step a plant at --speed 1200 takes every 0.25 s tick
PROCESSES = {"sintering", "ironmaking", "steelmaking", "rolling", "power_plant"}
RULES = TypeAdapter(list[Rule])


class _Day:
    """The steelworks stepped through one simulated day from midnight, sampled each step."""

    def __init__(self) -> None:
        self.scenario = load_scenario("steelworks")
        self.plant = Plant(self.scenario, start_time=time(0, 0))
        self.plant.step(0.0)
        refs = {ref for rule in self.scenario.physics for _, ref in rule.references()}
        self.start = {ref: self.value(ref) for ref in refs}
        self.samples: list[dict[str, float]] = [self._sample(refs)]
        for _ in range(int(DAY_S / STEP_S)):
            self.plant.step(STEP_S)
            self.samples.append(self._sample(refs))
        self.end = {ref: self.value(ref) for ref in refs}

    def value(self, ref: str) -> Any:
        device, point = split_ref(ref)
        return self.plant.devices[device].get(point)

    def increase(self, ref: str) -> float:
        device, point = split_ref(ref)
        rollover = self.plant.devices[device].profile.point(point).rollover
        gained = self.end[ref] - self.start[ref]
        return gained % rollover if rollover else gained

    def _sample(self, refs: set[str]) -> dict[str, Any]:
        return {ref: self.value(ref) for ref in refs} | {
            "time_of_day_s": self.plant.physics.time_of_day_s
        }


@pytest.fixture(scope="module")
def day() -> _Day:
    return _Day()


def test_steelworks_has_twenty_devices_labelled_with_the_five_processes() -> None:
    scenario = load_scenario("steelworks")
    labels = {device.process for device in scenario.devices}
    assert (len(scenario.devices) >= 20, PROCESSES <= labels, None in labels) == (
        True,
        True,
        False,
    )


def test_steelworks_uses_every_library_profile_family() -> None:
    used = {device.profile for device in load_scenario("steelworks").devices}
    assert {
        "cf-demo/pm3-meter",
        "cf-demo/em5-energy",
        "cf-demo/gfc200",
        "cf-demo/vx-steam",
        "cf-demo/plc-works",
        "cf-demo/cems-stack",
        "cf-demo/sinter-s7",
        "cf-demo/pv-sunspec",
    } <= used


def test_every_energy_counter_grows_by_its_integrated_rate(day: _Day) -> None:
    mismatched = {}
    for rule in day.scenario.physics:
        if not isinstance(rule, IntegrateRule) or rule.when is not None:
            continue
        rates = [sample[rule.source] for sample in day.samples]
        integral = (
            sum((a + b) / 2 * STEP_S for a, b in itertools.pairwise(rates))
            * rule.factor
            / {"s": 1, "min": 60, "h": 3600}[rule.per]
        )
        gained = day.increase(rule.target)
        if gained != pytest.approx(integral, rel=1e-3):
            mismatched[rule.target] = (gained, integral)
    assert mismatched == {}


def test_production_times_intensity_matches_energy_within_the_stated_tolerance(
    day: _Day,
) -> None:
    report = {}
    for balance in day.scenario.balances:
        energy = sum(day.increase(ref) for ref in balance.energy)
        produced = day.increase(balance.production)
        report[balance.name] = abs(produced * balance.intensity - energy) / energy <= (
            balance.tolerance
        )
    assert report == {balance.name: True for balance in day.scenario.balances}


def test_a_day_produces_tonnages_of_a_real_integrated_works(day: _Day) -> None:
    tonnes = {
        product: round(day.increase(f"works-plc.{product}"))
        for product in ("sinter_t", "hot_metal_t", "crude_steel_t", "rolled_steel_t")
    }
    # 300, 220, 240 and 235 t/h on day shifts, less at night.
    assert tonnes == {
        "sinter_t": pytest.approx(6880, rel=0.01),
        "hot_metal_t": pytest.approx(5280, rel=0.01),
        "crude_steel_t": pytest.approx(5556, rel=0.01),
        "rolled_steel_t": pytest.approx(5136, rel=0.01),
    }


def test_gas_follows_the_shift_load_curve(day: _Day) -> None:
    def flow_at(hour: float) -> float:
        sample = min(day.samples, key=lambda s: abs(s["time_of_day_s"] - hour * 3600))
        return float(sample["mill-gas.flow_nm3h"])

    # Reheating gas = 0.9 Nm3/h per kW of roughing load + 1200 holding.
    assert (flow_at(10), flow_at(18), flow_at(2)) == (
        pytest.approx(0.9 * 8200 + 1200),
        pytest.approx(0.9 * 8000 + 1200),
        pytest.approx(0.9 * 6000 + 1200),
    )


def test_pv_follows_daylight_and_sleeps_at_night(day: _Day) -> None:
    by_hour = {
        round(sample["time_of_day_s"] / 3600, 2): sample for sample in day.samples
    }
    night, noon = by_hour[2.0], by_hour[12.5]
    assert (
        night["site-pv.ac_power_kw"],
        night["site-pv.operating_state"],
        noon["site-pv.ac_power_kw"],
        noon["site-pv.operating_state"],
    ) == (0.0, 2.0, pytest.approx(240.0), 4.0)


@pytest.mark.parametrize("stack", ["sinter-cems", "bf-cems", "mill-cems", "pp-cems"])
def test_cems_co2_flow_equals_the_co2_of_the_fuels_burned(
    day: _Day, stack: str
) -> None:
    rule = next(
        r
        for r in day.scenario.physics
        if isinstance(r, CombustionRule) and r.target.startswith(f"{stack}.")
    )
    ratios = []
    for sample in day.samples[1::24]:
        fuel_co2 = sum(f.co2 * sample[f.source] for f in rule.fuels)
        # What the platform does: actual wet flow -> normal (0 degC, 101325 Pa) -> x CO2 %.
        normal = (
            sample[f"{stack}.flue_flow_m3h"]
            * 273.15
            / (273.15 + sample[f"{stack}.flue_temperature_degc"])
            * (
                sample[f"{stack}.barometric_pressure_pa"]
                + sample[f"{stack}.static_pressure_pa"]
            )
            / 101325
        )
        ratios.append(normal * sample[f"{stack}.co2_pct"] / 100 / fuel_co2)
    assert ratios == [pytest.approx(1.0, rel=1e-9)] * len(ratios)


@pytest.mark.parametrize("step_s", [1.0, 60.0, 900.0, 3600.0])
def test_energy_integration_is_the_same_at_any_speed(step_s: float) -> None:
    # 900 s is one 0.25 s tick at --speed 3600; 3600 s a whole hour in one step.
    rules = RULES.validate_python(
        [
            {
                "kind": "shifts",
                "target": "m.active_power_kw",
                "levels": [4300, 4300, 3900],
                "ramp_s": 900,
            },
            {
                "kind": "integrate",
                "source": "m.active_power_kw",
                "target": "m.energy_import_kwh",
            },
        ]
    )
    meter = SimulatedDevice(load_profile("cf-demo/pm3-meter"), device_id="m")
    meter.set("energy_import_kwh", 0.0)
    physics = Physics(rules, {"m": meter}, max_step_s=10.0, day_start_s=5 * 3600)
    physics.step(0.0)
    for _ in range(int(DAY_S / step_s)):
        physics.step(step_s)
    shifts = rules[0]
    assert isinstance(shifts, ShiftRule)
    exact = _integral_kwh(shifts, start_s=5 * 3600)
    assert meter.get("energy_import_kwh") == pytest.approx(exact, rel=1e-6)


def _integral_kwh(rule: ShiftRule, *, start_s: float) -> float:
    """kWh over a day of the shift curve, by summing it second by second (midpoints)."""
    return sum(rule.value_at(start_s + t + 0.5) for t in range(DAY_S)) / 3600
