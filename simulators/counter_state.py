"""Counter values kept across simulator restarts, as a real meter keeps its registers through a power cut.

A plant with a state directory reads ``<dir>/<scenario>.counters.json`` at start (values there replace the
scenario's initial counter values) and writes it while running and when it stops:

    {"elec-main": {"energy_import_kwh": 1523402.5}, "gas-main": {"volume_total_nm3": 98770012.0}}

Without it every restart began at the scenario's initial values, which the stream job reads as counters going
backwards (`counter_reset`) and marks the hour uncertain. Devices or points no longer in the scenario, and values
a point cannot hold, are skipped with a warning.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from pathlib import Path

from carbon_domain.registers import RegisterCodecError
from carbon_domain.schemas import PointKind

from .device import SimulatedDevice

__all__ = ["STATE_DIR_VARIABLE", "CounterState"]

STATE_DIR_VARIABLE = "CARBONFLOW_SIMULATOR_STATE_DIR"
_log = logging.getLogger(__name__)


class CounterState:
    """The counter values of one scenario's devices in a file of a state directory."""

    def __init__(self, directory: Path, scenario: str) -> None:
        self.path = directory / f"{scenario}.counters.json"

    def restore(self, devices: Mapping[str, SimulatedDevice]) -> int:
        """Set the devices' counters to the saved values; returns how many were restored."""
        try:
            saved = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return 0
        except (OSError, ValueError) as exc:
            _log.warning("counter state %s not read (%s): counters start from the scenario's values", self.path, exc)
            return 0
        restored = 0
        for device_id, values in (saved.items() if isinstance(saved, dict) else ()):
            device = devices.get(device_id)
            if device is None or not isinstance(values, dict):
                continue
            counters = _counters(device)
            for point, value in values.items():
                if point not in counters or not isinstance(value, int | float) or isinstance(value, bool):
                    continue
                try:
                    device.set(point, value)
                except (RegisterCodecError, ValueError) as exc:
                    _log.warning("counter %s.%s not restored to %s: %s", device_id, point, value, exc)
                    continue
                restored += 1
        return restored

    def save(self, devices: Mapping[str, SimulatedDevice]) -> None:
        """Write every counter's value now, atomically (a crash leaves the previous file)."""
        content = {device_id: {point: device.get(point) for point in sorted(_counters(device))}
                   for device_id, device in devices.items()}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_name(self.path.name + ".partial")
        partial.write_text(json.dumps({k: v for k, v in content.items() if v}, indent=1) + "\n", encoding="utf-8")
        os.replace(partial, self.path)


def _counters(device: SimulatedDevice) -> set[str]:
    return {p.name for p in device.profile.points if p.kind is PointKind.COUNTER}
