"""Fault injection: what can go wrong with a field device, scheduled in simulated time.

    offline      stops answering: its port refuses connections (Modbus devices
                 sharing a port with healthy ones answer exception 11 instead)
    slow         answers after ``delay_ms``                         (modbus)
    timeout      never answers                                      (modbus)
    exception    answers with Modbus exception ``code``             (modbus)
                 (with ``point``: only requests touching its registers)
    stuck        served value freezes at its value when the fault starts
    spikes       served value is now and then multiplied by ``factor``
    rollover     counter jumps to ``margin`` below its rollover (one-shot)
    replacement  counter restarts from 0, as a newly fitted meter  (one-shot)
    clock_drift  OPC-UA source timestamps run ``offset_s`` off      (opcua)
    calibration  CEMS status "calibrating", values held (or reference gas)

Faults come from a scenario's ``faults:`` list or at run time from the
control endpoint.  ``start_s`` and ``duration_s`` are simulated seconds;
``repeat_s`` starts the fault again that long after each start.

>>> board = FaultBoard(devices)                                    # doctest: +SKIP
>>> fault = board.add(parse_fault({"device": "elec-main", "kind": "stuck"}), now_s=0)  # doctest: +SKIP
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from carbon_domain.registers import DataType
from carbon_domain.schemas import PointKind
from device_profiles.schema import DeviceProfile, ModbusPoint, OpcUaType, Protocol

from .device import Link, Overlay, RefusedRange, SimulatedDevice, Value

__all__ = [
    "EXCEPTION_CODES",
    "Fault",
    "FaultBoard",
    "FaultKind",
    "FaultSpec",
    "fault_problems",
    "parse_fault",
]

EXCEPTION_CODES = (1, 2, 3, 4, 5, 6, 7, 8, 10, 11)
"""Modbus exception codes a device may answer with."""
STATUS_POINT = "analyser_status"
_CALIBRATING = 1


class FaultKind(StrEnum):
    """The kinds of fault a simulated device can be given."""

    OFFLINE = "offline"
    SLOW = "slow"
    TIMEOUT = "timeout"
    EXCEPTION = "exception"
    STUCK = "stuck"
    SPIKES = "spikes"
    ROLLOVER = "rollover"
    REPLACEMENT = "replacement"
    CLOCK_DRIFT = "clock_drift"
    CALIBRATION = "calibration"


class _Fault(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    protocols: ClassVar[tuple[Protocol, ...]] = (Protocol.MODBUS, Protocol.OPCUA)
    one_shot: ClassVar[bool] = False

    device: str = Field(min_length=1)
    point: str | None = Field(default=None, description="default: every point it fits")
    start_s: float = Field(default=0.0, ge=0, description="simulated seconds from now")
    duration_s: float | None = Field(
        default=None, gt=0, description="simulated seconds; none: until removed"
    )
    repeat_s: float | None = Field(
        default=None, gt=0, description="start again this long after each start"
    )


class OfflineFault(_Fault):
    kind: Literal["offline"]


class SlowFault(_Fault):
    protocols: ClassVar[tuple[Protocol, ...]] = (Protocol.MODBUS,)

    kind: Literal["slow"]
    delay_ms: float = Field(default=1500.0, gt=0, le=600_000)


class TimeoutFault(_Fault):
    protocols: ClassVar[tuple[Protocol, ...]] = (Protocol.MODBUS,)

    kind: Literal["timeout"]


class ExceptionFault(_Fault):
    """Answers every request with exception ``code``; with ``point``, only requests touching its registers."""

    protocols: ClassVar[tuple[Protocol, ...]] = (Protocol.MODBUS,)

    kind: Literal["exception"]
    code: int = Field(
        default=4, description="Modbus exception code, 4 = device failure"
    )


class StuckFault(_Fault):
    kind: Literal["stuck"]


class SpikesFault(_Fault):
    kind: Literal["spikes"]
    factor: float = 10.0
    probability: float = Field(default=0.1, gt=0, le=1, description="per read")
    seed: int | None = None


class RolloverFault(_Fault):
    one_shot: ClassVar[bool] = True

    kind: Literal["rollover"]
    margin: float = Field(
        default=10.0, gt=0, description="engineering units below rollover"
    )


class ReplacementFault(_Fault):
    one_shot: ClassVar[bool] = True

    kind: Literal["replacement"]


class ClockDriftFault(_Fault):
    protocols: ClassVar[tuple[Protocol, ...]] = (Protocol.OPCUA,)

    kind: Literal["clock_drift"]
    offset_s: float = Field(default=300.0, description="added to source timestamps")


class CalibrationFault(_Fault):
    kind: Literal["calibration"]
    reference: dict[str, float] = Field(
        default_factory=dict, description="reference-gas readings; other values held"
    )


FaultSpec = Annotated[
    OfflineFault
    | SlowFault
    | TimeoutFault
    | ExceptionFault
    | StuckFault
    | SpikesFault
    | RolloverFault
    | ReplacementFault
    | ClockDriftFault
    | CalibrationFault,
    Field(discriminator="kind"),
]
_SPEC = TypeAdapter(FaultSpec)


def parse_fault(data: Any) -> FaultSpec:
    """Validate a fault description (a dict as in a scenario or a POST body)."""
    return _SPEC.validate_python(data)


def fault_problems(spec: FaultSpec, profile: DeviceProfile) -> list[str]:
    """Why ``spec`` cannot apply to a device with ``profile`` (empty if it can)."""
    where = f"{spec.kind} on {spec.device}"
    if profile.protocol not in spec.protocols:
        kinds = " and ".join(str(p) for p in spec.protocols)
        return [
            f"{where}: {spec.kind} applies to {kinds} devices, not {profile.protocol}"
        ]
    names = {point.name for point in profile.points}
    if spec.point is not None and spec.point not in names:
        return [f"{where}: {profile.name} has no point {spec.point!r}"]
    if isinstance(spec, ExceptionFault) and spec.code not in EXCEPTION_CODES:
        codes = ", ".join(str(code) for code in EXCEPTION_CODES)
        return [f"{where}: exception code {spec.code} is not one of {codes}"]
    if isinstance(spec, CalibrationFault):
        if STATUS_POINT not in names:
            return [
                f"{where}: {profile.name} has no {STATUS_POINT} point (not an analyser)"
            ]
        return [
            f"{where}: reference for {name!r}, which {profile.name} lacks or is not numeric"
            for name in spec.reference
            if name not in {p.name for p in _numbers(profile)}
        ]
    if spec.kind in _POINTWISE and not _targets(spec, profile):
        what = _POINTWISE[spec.kind]
        named = (
            f"point {spec.point} is not {what}" if spec.point else f"no point is {what}"
        )
        return [f"{where}: {named}"]
    if isinstance(spec, RolloverFault):
        return [
            f"{where}: margin {spec.margin:g} is not below {point.name}'s rollover {point.rollover:g}"
            for point in _targets(spec, profile)  # counters that have a rollover
            if spec.margin >= point.rollover
        ][:1]
    return []


@dataclass
class Fault:
    """One fault on the board: its spec, id and when it runs (simulated seconds)."""

    id: str
    spec: FaultSpec
    starts_at_s: float
    ends_at_s: float | None
    state: Literal["scheduled", "active", "done"] = "scheduled"
    held: dict[str, Value] = field(default_factory=dict)
    rng: random.Random = field(default_factory=random.Random)

    def as_dict(self, now_s: float) -> dict[str, Any]:
        """JSON-ready view: id, state, timing and the spec's fields."""
        data = {
            "id": self.id,
            "state": self.state,
            "starts_at_s": round(self.starts_at_s, 3),
            "ends_at_s": None if self.ends_at_s is None else round(self.ends_at_s, 3),
            "remaining_s": None
            if self.ends_at_s is None or self.state == "done"
            else round(max(0.0, self.ends_at_s - max(now_s, self.starts_at_s)), 3),
        }
        return data | self.spec.model_dump(mode="json", exclude_none=True)


class FaultBoard:
    """Scheduled and active faults of a plant, applied to its devices as time passes."""

    def __init__(
        self,
        devices: Mapping[str, SimulatedDevice],
        *,
        on_jump: Callable[[str], None] | None = None,
    ) -> None:
        self.devices = devices
        self._on_jump = on_jump or (lambda _ref: None)
        self._faults: dict[str, Fault] = {}
        self._ids = itertools.count(1)

    def add(self, spec: FaultSpec, *, now_s: float) -> Fault:
        """Schedule ``spec`` ``spec.start_s`` after ``now_s``; ValueError if it cannot apply."""
        device = self.devices.get(spec.device)
        if device is None:
            known = ", ".join(self.devices)
            raise ValueError(f"no device {spec.device!r}; devices: {known}")
        problems = fault_problems(spec, device.profile)
        if problems:
            raise ValueError("; ".join(problems))
        fault_id = f"f{next(self._ids)}"
        start = now_s + spec.start_s
        fault = Fault(
            id=fault_id,
            spec=spec,
            starts_at_s=start,
            ends_at_s=None if spec.duration_s is None else start + spec.duration_s,
            rng=random.Random(spec.seed if isinstance(spec, SpikesFault) else fault_id),
        )
        self._faults[fault_id] = fault
        self.update(now_s)
        return fault

    def remove(self, fault_id: str) -> Fault:
        """End and forget a fault (KeyError if unknown)."""
        fault = self._faults.pop(fault_id)
        was_active = fault.state == "active"
        fault.state = "done"
        if was_active:
            self._apply(fault.spec.device)
        return fault

    def faults(self, device_id: str | None = None) -> list[Fault]:
        """Scheduled and active faults, oldest first; one device's if ``device_id`` is given."""
        return [
            fault
            for fault in self._faults.values()
            if device_id is None or fault.spec.device == device_id
        ]

    def update(self, now_s: float) -> bool:
        """Start and end faults due by ``now_s``; True if any device's faults changed."""
        changed: set[str] = set()
        for fault in list(self._faults.values()):
            if (
                fault.state == "active"
                and fault.ends_at_s is not None
                and now_s >= fault.ends_at_s
            ):
                self._finish(fault)
                changed.add(fault.spec.device)
            if fault.state == "scheduled" and now_s >= fault.starts_at_s:
                self._start(fault)
                changed.add(fault.spec.device)
                if fault.spec.one_shot:
                    self._finish(fault)
        for device_id in sorted(changed):
            self._apply(device_id)
        return bool(changed)

    def _start(self, fault: Fault) -> None:
        device = self.devices[fault.spec.device]
        spec = fault.spec
        fault.state = "active"
        if isinstance(spec, StuckFault | CalibrationFault):
            fault.held = {
                p.name: device.get(p.name) for p in _targets(spec, device.profile)
            }
        elif isinstance(spec, RolloverFault):
            for point in _targets(spec, device.profile):  # each has a rollover
                value = point.rollover - spec.margin
                if isinstance(point, ModbusPoint) and point.data_type.is_integer:
                    value = min(
                        value, point.representable()[1]
                    )  # the register's last count
                self._jump(device, point.name, value)
        elif isinstance(spec, ReplacementFault):
            for point in _targets(spec, device.profile):
                self._jump(device, point.name, 0.0)

    def _finish(self, fault: Fault) -> None:
        spec = fault.spec
        if spec.repeat_s is None:
            self._faults.pop(fault.id, None)
            fault.state = "done"
            return
        fault.state = "scheduled"
        fault.starts_at_s += spec.repeat_s
        if fault.ends_at_s is not None:
            fault.ends_at_s += spec.repeat_s
        fault.held = {}

    def _jump(self, device: SimulatedDevice, point: str, value: float) -> None:
        device.set(point, value)
        self._on_jump(f"{device.device_id}.{point}")

    def _apply(self, device_id: str) -> None:
        """Recompute a device's link and overlays from its active faults."""
        device = self.devices[device_id]
        active = [f for f in self.faults(device_id) if f.state == "active"]
        link: dict[str, Any] = {}
        overlays: dict[str, Overlay] = {}
        for fault in active:
            spec = fault.spec
            if isinstance(spec, OfflineFault):
                link["offline"] = True
            elif isinstance(spec, SlowFault):
                link["delay_s"] = max(link.get("delay_s", 0.0), spec.delay_ms / 1000.0)
            elif isinstance(spec, TimeoutFault):
                link["silent"] = True
            elif isinstance(spec, ExceptionFault) and spec.point is not None:
                link["refused"] = (*link.get("refused", ()), _refused_range(spec, device.profile))
            elif isinstance(spec, ExceptionFault):
                link.setdefault("exception_code", spec.code)
            elif isinstance(spec, ClockDriftFault):
                link["clock_offset_s"] = link.get("clock_offset_s", 0.0) + spec.offset_s
            else:
                overlays.update(_overlays(fault, device.profile))
        device.set_faults(Link(**link), overlays)


_POINTWISE: dict[str, str] = {
    FaultKind.STUCK: "numeric",
    FaultKind.SPIKES: "numeric",
    FaultKind.ROLLOVER: "a counter with a rollover",
    FaultKind.REPLACEMENT: "a counter",
}


def _numbers(profile: DeviceProfile) -> list[Any]:
    return [
        point
        for point in profile.points
        if point.data_type not in (DataType.BOOL, DataType.STRING, OpcUaType.BOOLEAN)
    ]


def _targets(spec: FaultSpec, profile: DeviceProfile) -> list[Any]:
    """Points a pointwise fault acts on: the named one, or every point that fits."""
    points = _numbers(profile)
    if isinstance(spec, RolloverFault):
        points = [p for p in points if p.kind is PointKind.COUNTER and p.rollover]
    elif isinstance(spec, ReplacementFault):
        points = [p for p in points if p.kind is PointKind.COUNTER]
    elif isinstance(spec, CalibrationFault):
        points = [
            p for p in points if p.kind is PointKind.GAUGE and p.name != STATUS_POINT
        ]
    if spec.point is not None and not isinstance(spec, CalibrationFault):
        points = [p for p in points if p.name == spec.point]
    return points


def _refused_range(spec: ExceptionFault, profile: DeviceProfile) -> RefusedRange:
    """The registers of the fault's point, which the device then answers with the exception."""
    point = next(p for p in profile.modbus_points if p.name == spec.point)
    assert point.unit_id is not None  # the profile gives every Modbus point its unit
    start = point.zero_based_address(profile.address_base)
    return RefusedRange(point.unit_id, point.table, start, point.width, spec.code)


def _overlays(fault: Fault, profile: DeviceProfile) -> dict[str, Overlay]:
    spec = fault.spec
    if isinstance(spec, StuckFault):
        return {name: _constant(value) for name, value in fault.held.items()}
    if isinstance(spec, SpikesFault):
        rng, factor, chance = fault.rng, spec.factor, spec.probability

        def spike(value: Value) -> Value:
            if isinstance(value, int | float) and rng.random() < chance:
                return value * factor
            return value

        return {point.name: spike for point in _targets(spec, profile)}
    if isinstance(spec, CalibrationFault):
        held: dict[str, Overlay] = {
            name: _constant(spec.reference.get(name, value))
            for name, value in fault.held.items()
        }
        held[STATUS_POINT] = _constant(float(_CALIBRATING))
        names = {point.name for point in profile.points}
        if "calibrating" in names:
            held["calibrating"] = _constant(True)
        return held
    return {}


def _constant(value: Value) -> Overlay:
    return lambda _model: value
