"""Scenario files: which simulated devices a plant runs, on which ports, with which physics.

>>> scenario = load_scenario("demo")
>>> [device.id for device in scenario.devices]
['elec-main', 'gas-main', 'plc-steel', 'boiler-1']
"""

from __future__ import annotations

from collections import defaultdict
from datetime import time
from importlib import resources
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import ErrorDetails

from carbon_domain.registers import DataType
from carbon_domain.schemas import PointKind
from device_profiles.errors import ProfileError
from device_profiles.loader import load_profile
from device_profiles.schema import DeviceProfile, ModbusPoint, OpcUaType, Protocol

from .errors import ScenarioError
from .faults import FaultSpec, fault_problems
from .physics import PointRef, Rule, ThresholdRule, split_ref

__all__ = [
    "Balance",
    "Scenario",
    "ScenarioDevice",
    "load_scenario",
    "resolve_profiles",
    "scenario_names",
]

_DEVICE_ID = r"^[A-Za-z0-9][A-Za-z0-9_-]*$"
_PROCESS = r"^[a-z][a-z0-9_]*$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ScenarioDevice(_Strict):
    """One simulated device: its profile and where it is served."""

    id: str = Field(pattern=_DEVICE_ID, max_length=128)
    profile: str
    protocol: Protocol
    port_offset: int = Field(
        ge=0, le=1000, description="added to the plant's base port"
    )
    unit_id: int | None = Field(
        default=None, ge=0, le=255, description="modbus; default: the profile's"
    )
    initial: dict[str, bool | int | float | str] = Field(default_factory=dict)
    process: str | None = Field(
        default=None,
        pattern=_PROCESS,
        max_length=64,
        description="process the device meters (e.g. sintering), for a site registry",
    )


class Balance(_Strict):
    """A promise of the scenario: energy used = production * intensity, within a tolerance."""

    name: str = Field(min_length=1)
    energy: list[PointRef] = Field(min_length=1, description="energy counters, summed")
    production: PointRef = Field(description="production counter")
    intensity: float = Field(gt=0, description="energy units per production unit")
    tolerance: float = Field(gt=0, lt=1, description="relative")


class Scenario(_Strict):
    """A plant: devices, ports, speed and physics."""

    name: str = Field(min_length=1)
    description: str = ""
    base_port: int = Field(
        default=15020, ge=0, le=65535, description="0: every server picks a free port"
    )
    speed: float = Field(
        default=1.0, gt=0, description="simulated seconds per real second"
    )
    static: bool = Field(
        default=False, description="freeze physics: values change only by writes"
    )
    tick_s: float = Field(
        default=0.25, ge=0.01, le=60, description="real seconds between physics steps"
    )
    max_step_s: float = Field(
        default=10.0,
        gt=0,
        le=3600,
        description="longest physics sub-step in simulated seconds, whatever the speed",
    )
    start_time: time | None = Field(
        default=None,
        description="simulated time of day at start; none: the local time of day",
    )
    devices: list[ScenarioDevice] = Field(min_length=1)
    physics: list[Rule] = Field(default_factory=list)
    faults: list[FaultSpec] = Field(default_factory=list)
    balances: list[Balance] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> Scenario:
        problems: list[str] = []
        ids = [device.id for device in self.devices]
        problems += [
            f"duplicate device id {i!r}"
            for i in sorted({i for i in ids if ids.count(i) > 1})
        ]
        by_offset: dict[int, list[ScenarioDevice]] = defaultdict(list)
        for device in self.devices:
            by_offset[device.port_offset].append(device)
            if device.protocol is Protocol.OPCUA and device.unit_id is not None:
                problems.append(f"device {device.id}: unit_id applies only to modbus")
        for offset, sharing in sorted(by_offset.items()):
            if len(sharing) > 1 and any(d.protocol is Protocol.OPCUA for d in sharing):
                names = ", ".join(d.id for d in sharing)
                problems.append(
                    f"port_offset {offset} shared by {names}; an opcua device needs its own port"
                )
        for index, rule in enumerate(self.physics):
            for role, ref in rule.references():
                if split_ref(ref)[0] not in ids:
                    problems.append(
                        f"physics[{index}] {role} {ref}: no device {split_ref(ref)[0]!r}"
                    )
        problems += [
            f"faults[{index}] {fault.kind}: no device {fault.device!r}"
            for index, fault in enumerate(self.faults)
            if fault.device not in ids
        ]
        for index, balance in enumerate(self.balances):
            for ref in [*balance.energy, balance.production]:
                if split_ref(ref)[0] not in ids:
                    problems.append(
                        f"balances[{index}] {ref}: no device {split_ref(ref)[0]!r}"
                    )
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def port_of(self, device: ScenarioDevice, base_port: int | None = None) -> int:
        """TCP port of ``device``; 0 when the base port is 0 (pick a free one)."""
        base = self.base_port if base_port is None else base_port
        return 0 if base == 0 else base + device.port_offset


def scenario_names() -> list[str]:
    """Names of the packaged scenarios."""
    root = resources.files("simulators") / "scenarios"
    return sorted(
        item.name.rsplit(".", 1)[0]
        for item in root.iterdir()
        if item.name.endswith(".yaml")
    )


def load_scenario(name_or_path: str | Path) -> Scenario:
    """Load a packaged scenario ("demo") or a scenario file, profiles checked."""
    text = str(name_or_path)
    if not isinstance(name_or_path, Path) and text in scenario_names():
        resource = resources.files("simulators") / "scenarios" / f"{text}.yaml"
        source, content = str(resource), resource.read_text(encoding="utf-8")
    else:
        source = text
        try:
            content = Path(text).read_text(encoding="utf-8")
        except OSError as exc:
            known = ", ".join(scenario_names())
            raise ScenarioError(
                source,
                [f"cannot read scenario ({exc.strerror or exc}); packaged: {known}"],
            ) from exc
    try:
        data = yaml.safe_load(content)
        scenario = Scenario.model_validate(data)
    except yaml.YAMLError as exc:
        raise ScenarioError(source, [f"not valid YAML: {exc}"]) from exc
    except ValidationError as exc:
        raise ScenarioError(
            source, [_describe(error) for error in exc.errors()]
        ) from exc
    resolve_profiles(scenario, source=source)
    return scenario


def resolve_profiles(
    scenario: Scenario, *, source: str = "<scenario>"
) -> dict[str, DeviceProfile]:
    """Load every device's profile and check the scenario against them."""
    problems: list[str] = []
    profiles: dict[str, DeviceProfile] = {}
    for device in scenario.devices:
        try:
            profile = load_profile(device.profile)
        except ProfileError as exc:
            problems += [
                f"device {device.id}: {line}" for line in str(exc).splitlines()
            ]
            continue
        if profile.protocol is not device.protocol:
            problems.append(
                f"device {device.id}: profile {profile.name} is {profile.protocol}, not {device.protocol}"
            )
        if device.unit_id is not None and profile.protocol is Protocol.MODBUS:
            profile = profile.with_unit_id(device.unit_id)
        profiles[device.id] = profile
        names = {point.name for point in profile.points}
        problems += [
            f"device {device.id}: initial value for unknown point {name!r}"
            for name in device.initial
            if name not in names
        ]
    problems += _unit_clashes(scenario, profiles)
    problems += _rule_problems(scenario, profiles)
    problems += _fault_problems(scenario, profiles)
    problems += _balance_problems(scenario, profiles)
    if problems:
        raise ScenarioError(source, problems)
    return profiles


def _unit_clashes(scenario: Scenario, profiles: dict[str, DeviceProfile]) -> list[str]:
    owners: dict[tuple[int, int], str] = {}
    problems = []
    for device in scenario.devices:
        profile = profiles.get(device.id)
        if profile is None or profile.protocol is not Protocol.MODBUS:
            continue
        for unit in sorted(
            {
                point.unit_id
                for point in profile.modbus_points
                if point.unit_id is not None
            }
        ):
            key = (device.port_offset, unit)
            if key in owners:
                problems.append(
                    f"devices {owners[key]} and {device.id} both use unit {unit} on port_offset {device.port_offset}"
                )
            owners[key] = device.id
    return problems


def _rule_problems(scenario: Scenario, profiles: dict[str, DeviceProfile]) -> list[str]:
    problems = []
    for index, rule in enumerate(scenario.physics):
        for role, ref in rule.references():
            device_id, name = split_ref(ref)
            profile = profiles.get(device_id)
            if profile is None:
                continue
            try:
                point = profile.point(name)
            except KeyError:
                problems.append(
                    f"physics[{index}] {role} {ref}: {profile.name} has no point {name!r}"
                )
                continue
            boolean = point.data_type in (DataType.BOOL, OpcUaType.BOOLEAN)
            textual = (
                isinstance(point, ModbusPoint) and point.data_type is DataType.STRING
            )
            if isinstance(rule, ThresholdRule) and role == "state":
                problems += _state_problems(index, ref, boolean or textual, rule)
            elif role == "when" and not boolean:
                problems.append(
                    f"physics[{index}] when {ref}: needs a boolean point, {name} is {point.data_type}"
                )
            elif role != "when" and (boolean or textual):
                problems.append(
                    f"physics[{index}] {role} {ref}: needs a numeric point, {name} is {point.data_type}"
                )
            elif (
                role == "target"
                and rule.kind in ("integrate", "follow")
                and point.kind is not PointKind.COUNTER
            ):
                problems.append(
                    f"physics[{index}] target {ref}: {rule.kind} needs a counter, "
                    f"{name} is a {point.kind}"
                )
    return problems


def _state_problems(
    index: int, ref: str, boolean: bool, rule: ThresholdRule
) -> list[str]:
    values = (rule.high, rule.low)
    if boolean and not all(isinstance(value, bool) for value in values):
        return [
            f"physics[{index}] target {ref}: a flag needs high and low true/false, got {values}"
        ]
    if not boolean and any(isinstance(value, bool) for value in values):
        return [
            f"physics[{index}] target {ref}: a number needs numeric high and low, got {values}"
        ]
    return []


def _fault_problems(
    scenario: Scenario, profiles: dict[str, DeviceProfile]
) -> list[str]:
    problems = []
    for index, fault in enumerate(scenario.faults):
        profile = profiles.get(fault.device)
        if profile is not None:
            problems += [
                f"faults[{index}] {problem}"
                for problem in fault_problems(fault, profile)
            ]
    return problems


def _balance_problems(
    scenario: Scenario, profiles: dict[str, DeviceProfile]
) -> list[str]:
    problems = []
    for index, balance in enumerate(scenario.balances):
        for ref in [*balance.energy, balance.production]:
            device_id, name = split_ref(ref)
            profile = profiles.get(device_id)
            if profile is None:
                continue
            try:
                point = profile.point(name)
            except KeyError:
                problems.append(
                    f"balances[{index}] {ref}: {profile.name} has no point {name!r}"
                )
                continue
            if point.kind is not PointKind.COUNTER:
                problems.append(
                    f"balances[{index}] {ref}: needs a counter, {name} is a {point.kind}"
                )
    return problems


def _describe(error: ErrorDetails) -> str:
    where = ".".join(str(part) for part in error["loc"]) or "scenario"
    return f"{where}: {error['msg'].removeprefix('Value error, ')}"
