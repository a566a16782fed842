"""The value model of one simulated device, shared by its protocol server and the plant.

Values are engineering values (what a gateway reports after scale and
offset).  Modbus registers are produced from them on every read, quantised
to the point's resolution, and writes by a client are decoded back into them.

Faults act on two layers the servers consult: `Link` (how the device talks:
offline, slow, silent, exception for every request or for some registers,
clock offset) and per-point overlays that
change what is *served* (stuck, spikes, calibration hold) while the model
value - what physics reads and writes - carries on underneath.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from carbon_domain.registers import (
    DataType,
    RegisterCodecError,
    WordByteOrder,
    decode,
    encode,
    from_engineering,
    to_engineering,
)
from device_profiles.schema import (
    DeviceProfile,
    ModbusPoint,
    ModbusTable,
    OpcUaPoint,
    OpcUaType,
    Protocol,
)

__all__ = ["Link", "Listener", "Overlay", "RefusedRange", "SimulatedDevice", "Value"]

Value = float | bool | str
Listener = Callable[[str, Value], None]
"""Called with (point name, new value) after every change."""
Overlay = Callable[[Value], Value]
"""Maps a point's model value to the value served while a fault lasts."""

_FLOAT32_MAX = 3.4028234663852886e38


@dataclass(frozen=True)
class RefusedRange:
    """Registers (or bits) of one unit and table that a device answers with a Modbus exception.

    A meter asked for a register its model lacks answers exception 2 (illegal
    data address) for any request that touches it, and serves the rest.
    """

    unit_id: int
    table: ModbusTable
    start: int
    count: int
    code: int

    def refuses(self, unit_id: int, table: ModbusTable, address: int, count: int) -> bool:
        """True if a request for ``count`` items from ``address`` touches the range."""
        return (unit_id, table) == (self.unit_id, self.table) and (
            address < self.start + self.count and self.start < address + count
        )


@dataclass(frozen=True)
class Link:
    """How a device answers its clients right now; the default is healthy."""

    offline: bool = False
    delay_s: float = 0.0
    silent: bool = False
    exception_code: int | None = None
    refused: tuple[RefusedRange, ...] = ()
    clock_offset_s: float = 0.0


_OPCUA_CODEC = {
    OpcUaType.DOUBLE: DataType.FLOAT64,
    OpcUaType.FLOAT: DataType.FLOAT32,
    OpcUaType.INT32: DataType.INT32,
    OpcUaType.UINT32: DataType.UINT32,
    OpcUaType.INT64: DataType.INT64,
    OpcUaType.BOOLEAN: DataType.BOOL,
}


class SimulatedDevice:
    """Engineering values per point of one device, with `get` and `set`.

    >>> meter = SimulatedDevice(load_profile("cf-demo/pm3-meter"), device_id="elec-main")
    >>> meter.set("energy_import_kwh", 1000.5)
    >>> meter.get("energy_import_kwh")
    1000.5
    """

    def __init__(
        self,
        profile: DeviceProfile,
        *,
        device_id: str | None = None,
        unit_id: int | None = None,
        initial: Mapping[str, Value] | None = None,
    ) -> None:
        if unit_id is not None and profile.protocol is Protocol.MODBUS:
            profile = profile.with_unit_id(unit_id)
        self.profile = profile
        self.device_id = device_id or profile.name.split("/", 1)[1]
        self._points: dict[str, ModbusPoint | OpcUaPoint] = {
            p.name: p for p in profile.points
        }
        self._values: dict[str, Value] = {}
        self._listeners: list[Listener] = []
        self._overlays: dict[str, Overlay] = {}
        self._bounds = {p.name: _bounds(p) for p in profile.points}
        self.link = Link()
        for point in profile.points:
            self.set(
                point.name, point.example if point.example is not None else _zero(point)
            )
        for name, value in (initial or {}).items():
            self.set(name, value)

    @property
    def point_names(self) -> list[str]:
        """Point names in profile order."""
        return list(self._points)

    def get(self, point: str) -> Value:
        """Current engineering value of ``point``."""
        self._point(point)
        return self._values[point]

    def set(self, point: str, value: Value) -> None:
        """Set ``point`` to an engineering value; raises RegisterCodecError if it cannot be served."""
        bounds = self._bounds.get(point)
        if (
            bounds is not None
            and isinstance(value, int | float)
            and not isinstance(value, bool)
            and bounds[0] <= value <= bounds[1]
        ):
            self._store(point, float(value))  # fast path: physics sets numbers all day
            return
        self._store(point, _coerce(self._point(point), value))

    def served(self, point: str) -> Value:
        """The value a client reads now: the model value through any fault overlay."""
        value = self.get(point)
        overlay = self._overlays.get(point)
        if overlay is None:
            return value
        return _saturate(self._points[point], overlay(value))

    def set_faults(self, link: Link, overlays: Mapping[str, Overlay]) -> None:
        """Replace the link state and the served-value overlays; listeners hear of every point."""
        for name in overlays:
            self._point(name)
        self.link = link
        self._overlays = dict(overlays)
        # Servers re-publish every point: served values or timestamps changed.
        for name in self._points:
            for listener in list(self._listeners):
                listener(name, self._values[name])

    def add_listener(self, listener: Listener) -> None:
        """Call ``listener(point, value)`` after every change."""
        self._listeners.append(listener)

    def remove_listener(self, listener: Listener) -> None:
        """Stop calling ``listener``."""
        self._listeners.remove(listener)

    @property
    def unit_ids(self) -> list[int]:
        """Modbus unit ids the device answers on."""
        return sorted(
            {p.unit_id for p in self._modbus_points() if p.unit_id is not None}
        )

    def tables(self, unit_id: int) -> frozenset[ModbusTable]:
        """Modbus tables that hold at least one point on ``unit_id``."""
        return frozenset(p.table for p in self._modbus_points(unit_id))

    def image(
        self, unit_id: int, table: ModbusTable, *, served: bool = True
    ) -> dict[int, int]:
        """Register words (or 0/1 bits) by 0-based address, as a client would read them.

        ``served=False`` gives the model's own words, without fault overlays.
        """
        words: dict[int, int] = {}
        for point in self._modbus_points(unit_id, table):
            start = point.zero_based_address(self.profile.address_base)
            value = self.served(point.name) if served else self._values[point.name]
            for index, word in enumerate(_encode_point(point, value)):
                words[start + index] = word
        return words

    def write(
        self, unit_id: int, table: ModbusTable, address: int, values: Sequence[int]
    ) -> list[str]:
        """Apply a client write at 0-based ``address``; return the points it changed."""
        words = self.image(unit_id, table, served=False)
        end = address + len(values)
        for index, word in enumerate(values):
            words[address + index] = int(word)
        decoded: dict[str, Value] = {}
        for point in self._modbus_points(unit_id, table, touching=(address, end)):
            start = point.zero_based_address(self.profile.address_base)
            chunk = [words[start + index] for index in range(point.width)]
            raw = decode(chunk, point.data_type, point.order or WordByteOrder.ABCD)
            decoded[point.name] = _engineering(point, raw)
        # Every touched point decodes before any is stored: a bad write changes nothing.
        for name, value in decoded.items():
            self._store(name, value)
        return list(decoded)

    def _point(self, name: str) -> ModbusPoint | OpcUaPoint:
        try:
            return self._points[name]
        except KeyError:
            known = ", ".join(self._points)
            raise KeyError(
                f"device {self.device_id} has no point {name!r}; points: {known}"
            ) from None

    def _store(self, name: str, value: Value) -> None:
        self._values[name] = value
        for listener in list(self._listeners):
            listener(name, value)

    def _modbus_points(
        self,
        unit_id: int | None = None,
        table: ModbusTable | None = None,
        *,
        touching: tuple[int, int] | None = None,
    ) -> Iterable[ModbusPoint]:
        base = self.profile.address_base
        for point in self._points.values():
            if not isinstance(point, ModbusPoint):
                continue
            if unit_id is not None and point.unit_id != unit_id:
                continue
            if table is not None and point.table is not table:
                continue
            if touching is not None:
                start = point.zero_based_address(base)
                if start >= touching[1] or start + point.width <= touching[0]:
                    continue
            yield point


def _zero(point: ModbusPoint | OpcUaPoint) -> Value:
    if point.data_type in (DataType.BOOL, OpcUaType.BOOLEAN):
        return False
    if point.data_type is DataType.STRING:
        return ""
    return 0.0


def _coerce(point: ModbusPoint | OpcUaPoint, value: Value) -> Value:
    if isinstance(point, ModbusPoint):
        if point.data_type.is_numeric and isinstance(value, bool | str):
            raise RegisterCodecError(
                f"{point.name} is {point.data_type}, got {value!r}"
            )
        _encode_point(point, value)  # raises if the registers cannot hold it
        if point.data_type is DataType.BOOL:
            return bool(value)
        return value if point.data_type is DataType.STRING else float(value)
    codec = _OPCUA_CODEC[point.data_type]
    if codec is DataType.BOOL:
        if not isinstance(value, bool):
            raise RegisterCodecError(f"{point.name} is boolean, got {value!r}")
        return value
    if isinstance(value, str | bool):
        raise RegisterCodecError(f"{point.name} is {point.data_type}, got {value!r}")
    encode(value if codec.is_float else _integral(value, point), codec)  # range check
    return float(value) if codec.is_float else _integral(value, point)


def _bounds(point: ModbusPoint | OpcUaPoint) -> tuple[float, float] | None:
    """Numbers a Modbus point surely holds, to skip the codec; None: always ask the codec."""
    if not isinstance(point, ModbusPoint) or not point.data_type.is_numeric:
        return None  # OPC-UA integers must stay ints; bools and strings are not numbers
    if point.data_type.is_integer:
        return point.representable()
    if point.data_type is DataType.FLOAT32:
        return (-_FLOAT32_MAX, _FLOAT32_MAX)
    return (-sys.float_info.max, sys.float_info.max)


def _saturate(point: ModbusPoint | OpcUaPoint, value: Value) -> Value:
    """Clamp an overlaid number into what the point can carry, as a device's display would."""
    if isinstance(value, bool | str) or not isinstance(value, int | float):
        return value
    if isinstance(point, ModbusPoint):
        if point.data_type.is_integer:
            low, high = point.representable()
            return min(max(float(value), low), high)
        if point.data_type is DataType.FLOAT32 and math.isfinite(value):
            return min(max(float(value), -_FLOAT32_MAX), _FLOAT32_MAX)
        return float(value)
    codec = _OPCUA_CODEC[point.data_type]
    if codec.is_integer:
        bits = 16 * {DataType.INT32: 2, DataType.UINT32: 2, DataType.INT64: 4}[codec]
        low = 0 if codec is DataType.UINT32 else -(2 ** (bits - 1))
        high = 2**bits - 1 if codec is DataType.UINT32 else 2 ** (bits - 1) - 1
        return int(min(max(round(value), low), high))
    if codec is DataType.FLOAT32 and math.isfinite(value):
        return min(max(float(value), -_FLOAT32_MAX), _FLOAT32_MAX)
    return float(value)


def _integral(value: float, point: OpcUaPoint) -> int:
    if isinstance(value, float) and not value.is_integer():
        raise RegisterCodecError(f"{point.name} is {point.data_type}, got {value!r}")
    return int(value)


def _encode_point(point: ModbusPoint, value: Value) -> list[int]:
    raw = from_engineering(value, point.scale, point.offset, point.data_type)
    return encode(
        raw, point.data_type, point.order or WordByteOrder.ABCD, count=point.count
    )


def _engineering(point: ModbusPoint, raw: float | bool | str) -> Value:
    if isinstance(raw, bool | str):
        return raw
    return to_engineering(raw, point.scale, point.offset)
