"""The simulated plant: scenario validation, physics, endpoints and the CLI."""

from __future__ import annotations

import asyncio
import re
import signal
import struct
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import TypeAdapter
from pymodbus.client import AsyncModbusTcpClient

from device_profiles.loader import load_profile
from simulators.device import SimulatedDevice
from simulators.errors import ScenarioError
from simulators.physics import CurveRule, Physics, Rule
from simulators.plant import Plant, demo_endpoints, device_scenario
from simulators.scenario import Scenario, load_scenario

DEMO_TEXT = (
    Path(__file__).parents[2] / "simulators" / "scenarios" / "demo.yaml"
).read_text(encoding="utf-8")
RULES = TypeAdapter(list[Rule])
LINE = re.compile(
    r"^device (?P<id>\S+) (?P<profile>\S+) (?:modbus tcp://127\.0\.0\.1:(?P<mport>\d+) unit (?P<unit>\d+)"
    r"|opcua opc\.tcp://127\.0\.0\.1:(?P<uport>\d+)/carbonflow/\S+)$"
)


def _modbus_only_demo(**changes: Any) -> Scenario:
    """The demo without its OPC-UA boiler (fast to start), with top-level changes."""
    data = yaml.safe_load(DEMO_TEXT)
    data["devices"] = [d for d in data["devices"] if d["protocol"] == "modbus"]
    data["physics"] = [r for r in data["physics"] if "boiler-1" not in str(r)]
    return Scenario.model_validate({**data, **changes})


def _devices(*pairs: tuple[str, str]) -> dict[str, SimulatedDevice]:
    return {
        device_id: SimulatedDevice(load_profile(profile), device_id=device_id)
        for device_id, profile in pairs
    }


@pytest.mark.parametrize(
    ("t_s", "expected"),
    [
        (0, 10.0),
        (5, 15.0),
        (10, 20.0),
        (15, 15.0),
        (19.9, 10.1),
        (20, 10.0),
        (45, 15.0),
        (-5, 15.0),
    ],
)
def test_curve_interpolates_and_repeats_every_period(
    t_s: float, expected: float
) -> None:
    curve = CurveRule(
        kind="curve", target="m.p", period_s=20, points=[(0, 10), (10, 20)]
    )
    assert curve.value_at(t_s) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("rules", "setup", "dt_s", "expected"),
    [
        pytest.param(  # kWh += kW * dt / 3600
            [
                {
                    "kind": "integrate",
                    "source": "m.active_power_kw",
                    "target": "m.energy_import_kwh",
                }
            ],
            {"m.active_power_kw": 1800.0, "m.energy_import_kwh": 100.0},
            600.0,
            {"m.energy_import_kwh": 400.0},
            id="energy-integrates-power",
        ),
        pytest.param(  # wraps at the point's rollover (2^32 x 0.01 kWh)
            [
                {
                    "kind": "integrate",
                    "source": "m.active_power_kw",
                    "target": "m.energy_import_kwh",
                }
            ],
            {"m.active_power_kw": 3600.0, "m.energy_import_kwh": 42949672.0},
            3.6,
            {"m.energy_import_kwh": pytest.approx(42949675.6 - 42949672.96, abs=1e-6)},
            id="counter-rolls-over",
        ),
        pytest.param(
            [
                {
                    "kind": "scale",
                    "source": "m.active_power_kw",
                    "target": "m.current_l1_a",
                    "factor": 1.5,
                    "offset": 2,
                }
            ],
            {"m.active_power_kw": 100.0},
            1.0,
            {"m.current_l1_a": 152.0},
            id="scale-follows-source",
        ),
        pytest.param(  # t += kWh / 450 while the line runs
            [
                {
                    "kind": "integrate",
                    "source": "m.active_power_kw",
                    "target": "m.energy_import_kwh",
                },
                {
                    "kind": "follow",
                    "source": "m.energy_import_kwh",
                    "target": "p.crude_steel_t",
                    "factor": 1 / 450,
                    "when": "p.line_running",
                },
            ],
            {
                "m.active_power_kw": 4500.0,
                "m.energy_import_kwh": 0.0,
                "p.crude_steel_t": 10.0,
                "p.line_running": True,
            },
            3600.0,
            {"p.crude_steel_t": pytest.approx(20.0)},
            id="production-follows-energy",
        ),
        pytest.param(
            [
                {
                    "kind": "integrate",
                    "source": "m.active_power_kw",
                    "target": "m.energy_import_kwh",
                },
                {
                    "kind": "follow",
                    "source": "m.energy_import_kwh",
                    "target": "p.crude_steel_t",
                    "factor": 1 / 450,
                    "when": "p.line_running",
                },
            ],
            {
                "m.active_power_kw": 4500.0,
                "p.crude_steel_t": 10.0,
                "p.line_running": False,
            },
            3600.0,
            {"p.crude_steel_t": 10.0},
            id="stopped-line-produces-nothing",
        ),
        pytest.param(
            [
                {
                    "kind": "integrate",
                    "source": "g.flow_nm3h",
                    "target": "g.volume_total_nm3",
                    "per": "min",
                    "factor": 0.5,
                }
            ],
            {"g.flow_nm3h": 60.0, "g.volume_total_nm3": 0.0},
            120.0,
            {"g.volume_total_nm3": 60.0},
            id="rate-per-minute-with-factor",
        ),
    ],
)
def test_physics_rules_move_values_with_simulated_time(
    rules: list[dict[str, Any]],
    setup: dict[str, Any],
    dt_s: float,
    expected: dict[str, Any],
) -> None:
    devices = _devices(
        ("m", "cf-demo/pm3-meter"), ("p", "cf-demo/plc-line"), ("g", "cf-demo/gfc200")
    )
    for ref, value in setup.items():
        device, point = ref.split(".")
        devices[device].set(point, value)
    physics = Physics(RULES.validate_python(rules), devices)
    physics.step(0.0)
    physics.step(dt_s)
    got = {ref: devices[ref.split(".")[0]].get(ref.split(".")[1]) for ref in expected}
    assert got == expected


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda d: d["devices"].append(dict(d["devices"][0])),
            "duplicate device id 'elec-main'",
        ),
        (
            lambda d: d["devices"][1].update(unit_id=1),
            "devices elec-main and gas-main both use unit 1 on port_offset 0",
        ),
        (
            lambda d: d["devices"][3].update(port_offset=0),
            "port_offset 0 shared by elec-main, gas-main, boiler-1",
        ),
        (
            lambda d: d["devices"][3].update(protocol="modbus"),
            "profile cf-demo/boiler-opcua is opcua, not modbus",
        ),
        (
            lambda d: d["devices"][0]["initial"].update(bogus=1),
            "initial value for unknown point 'bogus'",
        ),
        (
            lambda d: d["physics"][0].update(target="elec-main.nope"),
            "physics[0] target elec-main.nope: cf-demo/pm3-meter has no point 'nope'",
        ),
        (
            lambda d: d["physics"][0].update(target="nobody.power"),
            "physics[0] target nobody.power: no device 'nobody'",
        ),
        (
            lambda d: d["physics"][4].update(target="elec-main.voltage_l1_v"),
            "integrate needs a counter, voltage_l1_v is a gauge",
        ),
        (
            lambda d: d["physics"][7].update(when="plc-steel.heat_count"),
            "needs a boolean point, heat_count is uint16",
        ),
        (
            lambda d: d["physics"][0].update(points=[[10, 1], [5, 2]]),
            "curve times must increase, got [10.0, 5.0]",
        ),
        (
            lambda d: d["physics"][0].update(kind="wave"),
            "physics.0: Input tag 'wave' found using 'kind' does not match",
        ),
        (lambda d: d.update(speed=0), "speed: Input should be greater than 0"),
    ],
)
def test_broken_scenario_fails_with_its_message(
    tmp_path: Path, change: Any, message: str
) -> None:
    data = yaml.safe_load(DEMO_TEXT)
    change(data)
    path = tmp_path / "scenario.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(ScenarioError, match=re.escape(message)):
        load_scenario(path)


def test_demo_endpoints_list_the_four_demo_devices_on_fixed_ports() -> None:
    assert [
        (e["device_id"], e["protocol"], e["port"], e["unit_id"])
        for e in demo_endpoints(base_port=30000)
    ] == [
        ("elec-main", "modbus", 30000, 1),
        ("gas-main", "modbus", 30000, 2),
        ("plc-steel", "modbus", 30001, 1),
        ("boiler-1", "opcua", 30002, None),
    ]


async def test_static_plant_changes_values_only_when_a_client_writes() -> None:
    async with Plant(
        _modbus_only_demo(), base_port=0, static=True, speed=3600
    ) as plant:
        elec = next(e for e in plant.endpoints if e.device_id == "elec-main")
        await asyncio.sleep(0.3)
        unchanged = plant.devices["elec-main"].get("energy_import_kwh")
        async with AsyncModbusTcpClient(
            "127.0.0.1", port=elec.port, timeout=2, retries=0
        ) as client:
            await client.write_registers(
                0x100, [0x0BEB, 0xC200], device_id=elec.unit_id
            )
        assert (unchanged, plant.devices["elec-main"].get("energy_import_kwh")) == (
            1234567.89,
            2_000_000.0,
        )


async def test_speed_factor_scales_simulated_time() -> None:
    scenario = _modbus_only_demo(tick_s=0.05)
    async with Plant(scenario, base_port=0, speed=36000) as plant:
        start = plant.devices["elec-main"].get("energy_import_kwh")
        started = asyncio.get_running_loop().time()
        await asyncio.sleep(0.3)
        gained = plant.devices["elec-main"].get("energy_import_kwh") - start  # type: ignore[operator]
        hours = (asyncio.get_running_loop().time() - started) * 36000 / 3600
    assert 1000 < gained < 3300 * (hours + 0.5)  # at speed 1 it would be about 0.2 kWh


async def test_plant_serves_the_documented_registers_on_its_printed_endpoint() -> None:
    async with Plant(_modbus_only_demo(), base_port=0, static=True) as plant:
        lines = [endpoint.line() for endpoint in plant.endpoints]
        match = LINE.match(lines[2])
        assert match is not None
        async with AsyncModbusTcpClient(
            "127.0.0.1", port=int(match["mport"]), timeout=2, retries=0
        ) as client:
            words = (
                await client.read_holding_registers(
                    0, count=2, device_id=int(match["unit"])
                )
            ).registers
    tonnes = (
        struct.unpack(">I", struct.pack(">HH", words[1], words[0]))[0] * 0.1
    )  # CDAB
    assert (all(LINE.match(line) for line in lines), match["id"], tonnes) == (
        True,
        "plc-steel",
        pytest.approx(1520340.7),
    )


def test_device_scenario_sways_gauges_and_leaves_counters() -> None:
    scenario = device_scenario("cf-demo/pm3-meter", port=0)
    targets = {rule.target for rule in scenario.physics}
    assert (
        "pm3-meter.active_power_kw" in targets,
        "pm3-meter.energy_import_kwh" in targets,
    ) == (True, False)


def _cli(*args: str) -> subprocess.Popen[str]:
    code = "import sys; from simulators.cli import main; sys.exit(main(sys.argv[1:]))"
    return subprocess.Popen(
        [sys.executable, "-c", code, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize(
    ("args", "count", "signum"),
    [
        (
            ("plant", "--scenario", "demo", "--base-port", "0", "--static"),
            4,
            signal.SIGINT,
        ),
        (
            (
                "device",
                "--profile",
                "cf-demo/plc-line",
                "--port",
                "0",
                "--unit-id",
                "5",
            ),
            1,
            signal.SIGTERM,
        ),
    ],
)
def test_cli_prints_one_line_per_device_and_exits_0_on_signal(
    args: tuple[str, ...], count: int, signum: int
) -> None:
    process = _cli(*args)
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline().rstrip("\n") for _ in range(count)]
        process.send_signal(signum)
        code = process.wait(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()
    assert (code, [bool(LINE.match(line)) for line in lines]) == (0, [True] * count), (
        lines
    )


def test_cli_unknown_scenario_exits_1_naming_the_packaged_ones() -> None:
    process = _cli("plant", "--scenario", "/nonexistent.yaml")
    _, err = process.communicate(timeout=15)
    assert (process.returncode, "packaged: demo" in err) == (1, True)


def test_demo_gauges_never_hold_one_value_for_ten_minutes() -> None:
    """A real plant's voltages, temperatures and pressures wander; a gauge that does not is what stuck_value
    reports (a frozen meter), so the demo's own steady signals must not look like one. Status points (on/off,
    enumerated) are states and may hold."""
    plant = Plant(load_scenario("demo"), base_port=0)
    seen: dict[tuple[str, str], set[float]] = {}
    for _ in range(11):  # minute by minute over ten minutes
        for device_id, device in plant.devices.items():
            for point in device.profile.points:
                value = device.get(point.name)
                if (point.kind == "gauge" and not point.states and isinstance(value, int | float)
                        and not isinstance(value, bool)):
                    seen.setdefault((device_id, point.name), set()).add(value)
        for _ in range(60):
            plant.step(1.0)
    assert sorted(key for key, values in seen.items() if len(values) == 1) == []
