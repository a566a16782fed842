"""Simulated counters carry on across restarts with a state directory (simulators/counter_state.py), as real
meters keep their registers: a demo restart no longer starts them from the scenario's values (counter_reset)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import yaml

from simulators.plant import Plant
from simulators.scenario import Scenario

DEMO_TEXT = (Path(__file__).parents[2] / "simulators" / "scenarios" / "demo.yaml").read_text(encoding="utf-8")
STATE_FILE = f"{yaml.safe_load(DEMO_TEXT)['name']}.counters.json"  # named after the scenario


def _modbus_demo() -> Scenario:
    """The demo without its OPC-UA boiler (fast to start)."""
    data = yaml.safe_load(DEMO_TEXT)
    data["devices"] = [d for d in data["devices"] if d["protocol"] == "modbus"]
    data["physics"] = [r for r in data["physics"] if "boiler-1" not in str(r)]
    return Scenario.model_validate(data)


async def test_restarted_plant_continues_its_counters_from_where_it_stopped(tmp_path: Path) -> None:
    first = Plant(_modbus_demo(), base_port=0, static=True, state_dir=tmp_path)
    initial = first.devices["elec-main"].get("energy_import_kwh")
    await first.start()
    first.step(3600.0)  # an hour of load
    reached = first.devices["elec-main"].get("energy_import_kwh")
    await first.stop()
    again = Plant(_modbus_demo(), base_port=0, static=True, state_dir=tmp_path)
    fresh = Plant(_modbus_demo(), base_port=0, static=True)
    assert reached > initial
    assert again.devices["elec-main"].get("energy_import_kwh") == reached
    assert fresh.devices["elec-main"].get("energy_import_kwh") == initial


def test_unreadable_or_foreign_state_leaves_the_scenarios_values(tmp_path: Path) -> None:
    (tmp_path / STATE_FILE).write_text(json.dumps({
        "elec-main": {"energy_import_kwh": "lots", "active_power_kw": 5.0},  # not a number; not a counter
        "gone-meter": {"energy_import_kwh": 1.0}, "gas-main": {"volume_total_nm3": 1234.5}}))
    kept = Plant(_modbus_demo(), base_port=0, static=True, state_dir=tmp_path)
    (tmp_path / STATE_FILE).write_text("{not json")
    broken = Plant(_modbus_demo(), base_port=0, static=True, state_dir=tmp_path)
    plain = Plant(_modbus_demo(), base_port=0, static=True)
    assert kept.devices["gas-main"].get("volume_total_nm3") == 1234.5  # the one usable value is taken
    for plant in (kept, broken):
        assert plant.devices["elec-main"].get("energy_import_kwh") == plain.devices["elec-main"].get("energy_import_kwh")
        assert plant.devices["elec-main"].get("active_power_kw") == plain.devices["elec-main"].get("active_power_kw")


def test_simulate_plant_writes_its_counters_when_stopped(tmp_path: Path) -> None:
    code = "import sys; from simulators.cli import main; sys.exit(main(sys.argv[1:]))"
    process = subprocess.Popen([sys.executable, "-c", code, "plant", "--scenario", "demo", "--base-port", "0",
                                "--static", "--state-dir", str(tmp_path)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        process.stdout.readline()  # the first device is served
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()
    saved = json.loads((tmp_path / STATE_FILE).read_text())
    assert process.returncode == 0
    assert saved["elec-main"]["energy_import_kwh"] > 0 and "active_power_kw" not in saved["elec-main"]
