"""Shift, daylight, threshold and combustion rules, and the scenario checks that guard them."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import TypeAdapter, ValidationError

from device_profiles.loader import load_profile
from simulators.device import SimulatedDevice
from simulators.errors import ScenarioError
from simulators.physics import DaylightRule, Physics, Rule, ShiftRule
from simulators.scenario import load_scenario

RULES = TypeAdapter(list[Rule])
STEELWORKS = (
    Path(__file__).parents[2] / "simulators" / "scenarios" / "steelworks.yaml"
).read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("hour", "expected"),
    [
        (5.99, 300.0),  # night shift
        (6.0, 300.0),  # early shift starts: the ramp begins
        (6.125, 400.0),  # half way up the 900 s ramp
        (6.25, 500.0),
        (13.9, 500.0),
        (14.25, 600.0),  # late shift
        (22.125, 450.0),  # half way down to the night level
        (0.0, 300.0),
    ],
)
def test_shift_rule_holds_a_level_per_eight_hour_shift(
    hour: float, expected: float
) -> None:
    rule = ShiftRule(
        kind="shifts", target="m.p", levels=(500, 600, 300), first_shift_h=6, ramp_s=900
    )
    assert rule.value_at(hour * 3600) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("hour", "expected"),
    [
        (3, 0.0),
        (6, 0.0),
        (9, 100 * 2**-0.5),
        (12, 100.0),
        (15, 100 * 2**-0.5),
        (18, 0.0),
        (23, 0.0),
    ],
)
def test_daylight_rule_is_a_sine_between_sunrise_and_sunset(
    hour: float, expected: float
) -> None:
    rule = DaylightRule(
        kind="daylight", target="pv.p", peak=100, sunrise_h=6, sunset_h=18
    )
    assert rule.value_at(hour * 3600) == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize(
    ("rules", "setup", "expected"),
    [
        pytest.param(
            [
                {
                    "kind": "threshold",
                    "source": "m.active_power_kw",
                    "target": "p.line_running",
                    "threshold": 100,
                    "high": True,
                    "low": False,
                }
            ],
            {"m.active_power_kw": 50.0, "p.line_running": True},
            {"p.line_running": False},
            id="threshold-clears-a-flag-below",
        ),
        pytest.param(
            [
                {
                    "kind": "threshold",
                    "source": "m.active_power_kw",
                    "target": "p.tap_temperature_degc",
                    "threshold": 100,
                    "high": 1600,
                    "low": 0,
                }
            ],
            {"m.active_power_kw": 150.0},
            {"p.tap_temperature_degc": 1600.0},
            id="threshold-sets-a-number-above",
        ),
        pytest.param(
            # Natural gas at excess air 1.2 with dry air: per Nm3 CH4, 11.456 Nm3 air,
            # flue = 1 CO2 + 2 H2O + 9.456 N2/O2 = 12.456 Nm3 -> CO2 8.03 %, O2 3.36 %.
            [
                {
                    "kind": "combustion",
                    "target": "c.flue_flow_m3h",
                    "excess_air": 1.2,
                    "air_moisture_pct": 0,
                    "fuels": [{"source": "g.flow_nm3h", "co2": 1, "h2o": 2, "o2": 2}],
                    "co2": "c.co2_pct",
                    "o2": "c.o2_pct",
                    "moisture": "c.moisture_pct",
                }
            ],
            {"g.flow_nm3h": 1000.0},
            {
                "c.flue_flow_m3h": pytest.approx(12455.8, rel=1e-4),
                "c.co2_pct": pytest.approx(8.0284, rel=1e-4),
                "c.o2_pct": pytest.approx(3.2113, rel=1e-4),
                "c.moisture_pct": pytest.approx(16.0567, rel=1e-4),
            },
            id="combustion-of-natural-gas",
        ),
        pytest.param(
            # At 100 degC and 90 % of an atmosphere the same gas takes (373.15/273.15)/0.9 the volume.
            [
                {
                    "kind": "combustion",
                    "target": "c.flue_flow_m3h",
                    "excess_air": 1.2,
                    "air_moisture_pct": 0,
                    "fuels": [{"source": "g.flow_nm3h", "co2": 1, "h2o": 2, "o2": 2}],
                    "temperature": "c.flue_temperature_degc",
                    "barometric_pressure": "c.barometric_pressure_pa",
                    "static_pressure": "c.static_pressure_pa",
                }
            ],
            {
                "g.flow_nm3h": 1000.0,
                "c.flue_temperature_degc": 100.0,
                "c.barometric_pressure_pa": 92192.5,
                "c.static_pressure_pa": -1000.0,
            },
            {
                "c.flue_flow_m3h": pytest.approx(
                    12455.8 * 373.15 / 273.15 / 0.9, rel=1e-4
                )
            },
            id="combustion-flow-at-stack-conditions",
        ),
        pytest.param(
            [
                {
                    "kind": "combustion",
                    "target": "c.flue_flow_m3h",
                    "leak_air_nm3h": 0,
                    "fuels": [{"source": "g.flow_nm3h", "co2": 1, "o2": 2}],
                    "co2": "c.co2_pct",
                    "o2": "c.o2_pct",
                }
            ],
            {"g.flow_nm3h": 0.0},
            {"c.flue_flow_m3h": 0.0, "c.co2_pct": 0.0, "c.o2_pct": 20.95},
            id="combustion-with-no-fuel-shows-air",
        ),
    ],
)
def test_rules_move_values(
    rules: list[dict[str, Any]], setup: dict[str, Any], expected: dict[str, Any]
) -> None:
    devices = _devices(setup)
    physics = Physics(RULES.validate_python(rules), devices)
    physics.step(0.0)
    got = {ref: devices[ref.split(".")[0]].get(ref.split(".")[1]) for ref in expected}
    assert got == expected


@pytest.mark.parametrize(
    ("source_after", "expected"),
    [
        (42949672.5, 0.25),  # an ordinary increase of 0.5 kWh
        (1.0, 0.98),  # wrapped at 42949672.96: 0.96 + 1.0 kWh
        (5.0, 2.98),
    ],
)
def test_follow_counts_the_source_increase_across_its_rollover(
    source_after: float, expected: float
) -> None:
    devices = _devices({"m.energy_import_kwh": 42949672.0, "p.crude_steel_t": 0.0})
    rule = {
        "kind": "follow",
        "source": "m.energy_import_kwh",
        "target": "p.crude_steel_t",
        "factor": 0.5,
    }
    physics = Physics(RULES.validate_python([rule]), devices)
    physics.step(0.0)
    devices["m"].set("energy_import_kwh", source_after)
    physics.step(1.0)
    assert devices["p"].get("crude_steel_t") == pytest.approx(expected)


def test_follow_adds_nothing_when_the_source_counter_is_reset() -> None:
    devices = _devices({"m.energy_import_kwh": 1000.0, "p.crude_steel_t": 10.0})
    rule = {
        "kind": "follow",
        "source": "m.energy_import_kwh",
        "target": "p.crude_steel_t",
        "factor": 0.5,
    }
    physics = Physics(RULES.validate_python([rule]), devices)
    physics.step(0.0)
    devices["m"].set("energy_import_kwh", 0.0)  # a new meter
    physics.step(1.0)
    devices["m"].set("energy_import_kwh", 4.0)
    physics.step(1.0)
    assert devices["p"].get("crude_steel_t") == pytest.approx(12.0)


def _devices(setup: dict[str, Any]) -> dict[str, SimulatedDevice]:
    devices = {
        device_id: SimulatedDevice(load_profile(profile), device_id=device_id)
        for device_id, profile in (
            ("m", "cf-demo/pm3-meter"),
            ("p", "cf-demo/plc-line"),
            ("g", "cf-demo/gfc200"),
            ("c", "cf-demo/cems-stack"),
        )
    }
    for ref, value in setup.items():
        device, point = ref.split(".")
        devices[device].set(point, value)
    return devices


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"kind": "shifts", "target": "m.p", "levels": [1, 2]}, "levels"),
        (
            {"kind": "shifts", "target": "m.p", "levels": [1, 2, 3], "ramp_s": 28800},
            "ramp_s",
        ),
        (
            {
                "kind": "daylight",
                "target": "m.p",
                "peak": 1,
                "sunrise_h": 18,
                "sunset_h": 6,
            },
            "sunset_h 6.0 must be after sunrise_h 18.0",
        ),
        (
            {
                "kind": "combustion",
                "target": "m.p",
                "excess_air": 0.9,
                "fuels": [{"source": "g.f", "co2": 1, "o2": 2}],
            },
            "excess_air",
        ),
        ({"kind": "combustion", "target": "m.p", "fuels": []}, "fuels"),
    ],
)
def test_invalid_rules_are_refused(rule: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(message)):
        RULES.validate_python([rule])


def _set_fault(data: dict[str, Any], **fields: Any) -> None:
    data["faults"] = [fields]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda d: d["devices"][0].update(process="Sinter Plant"),
            "devices.0.process: String should match pattern",
        ),
        (
            lambda d: _set_fault(d, device="nobody", kind="stuck"),
            "faults[0] stuck: no device 'nobody'",
        ),
        (
            lambda d: _set_fault(d, device="pp-boiler", kind="slow", delay_ms=100),
            "faults[0] slow on pp-boiler: slow applies to modbus devices, not opcua",
        ),
        (
            lambda d: _set_fault(d, device="bof-elec", kind="clock_drift"),
            "faults[0] clock_drift on bof-elec: clock_drift applies to opcua devices, not modbus",
        ),
        (
            lambda d: _set_fault(d, device="bof-elec", kind="stuck", point="nope"),
            "faults[0] stuck on bof-elec: cf-demo/pm3-meter has no point 'nope'",
        ),
        (
            lambda d: _set_fault(d, device="bof-elec", kind="exception", code=9),
            "faults[0] exception on bof-elec: exception code 9 is not one of 1, 2, 3, 4, 5, 6, 7, 8, 10, 11",
        ),
        (
            lambda d: _set_fault(d, device="bof-elec", kind="calibration"),
            "faults[0] calibration on bof-elec: cf-demo/pm3-meter has no analyser_status point",
        ),
        (
            lambda d: _set_fault(
                d, device="bof-elec", kind="rollover", point="active_power_kw"
            ),
            "faults[0] rollover on bof-elec: point active_power_kw is not a counter with a rollover",
        ),
        (
            lambda d: _set_fault(d, device="bof-elec", kind="rollover", margin=5e7),
            "faults[0] rollover on bof-elec: margin 5e+07 is not below energy_import_kwh's rollover 4.29497e+07",
        ),
        (
            lambda d: _set_fault(d, device="bof-elec", kind="slow", delay_ms=0),
            "faults.0.slow.delay_ms: Input should be greater than 0",
        ),
        (
            lambda d: d["balances"][0].update(production="works-plc.line_running"),
            "balances[0] works-plc.line_running: needs a counter, line_running is a gauge",
        ),
        (
            lambda d: d["physics"][3].update(high=1),
            "physics[3] target sinter-dcs.strand_running: a flag needs high and low true/false",
        ),
    ],
)
def test_broken_steelworks_scenario_fails_with_its_message(
    tmp_path: Path, change: Any, message: str
) -> None:
    data = yaml.safe_load(STEELWORKS)
    change(data)
    path = tmp_path / "scenario.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(ScenarioError, match=re.escape(message)):
        load_scenario(path)
